import Daemon
import Foundation

/// The `refex` command line. Each command prints what went wrong on stderr and exits non-zero.
let arguments = Array(CommandLine.arguments.dropFirst())
exit(CommandLineTool.run(arguments))
