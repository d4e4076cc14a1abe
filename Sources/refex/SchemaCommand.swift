import Foundation
import JSON
import JSONSchema

/// `refex schema …`: the command line's file system and streams around `SchemaValidateCommand`.
enum SchemaCommand {
    /// Runs `refex schema` with the arguments after `schema`; returns the exit status.
    static func run(_ arguments: [String]) -> Int32 {
        SchemaValidateCommand.run(arguments, io: FileSystemIO())
    }

    private final class FileSystemIO: SchemaCommandIO {
        struct ReadError: Error, CustomStringConvertible {
            var description: String
        }

        /// Larger inputs are refused before they are read (the parser's own limit is 16 MiB).
        private static let maxBytes = JSONLimits().maxDocumentBytes

        func readFile(_ path: String) throws -> [UInt8] {
            if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > Self.maxBytes {
                throw ReadError(description: "larger than \(Self.maxBytes) bytes")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                var isDirectory: ObjCBool = false
                let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
                throw ReadError(description: !exists ? "no such file" : (isDirectory.boolValue ? "is a directory" : "permission denied or unreadable"))
            }
            return [UInt8](data)
        }

        func fileNames(inDirectory path: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: path)
        }

        func readStandardInput() throws -> [UInt8] {
            var bytes: [UInt8] = []
            while let chunk = try FileHandle.standardInput.read(upToCount: 1 << 16), !chunk.isEmpty {
                bytes.append(contentsOf: chunk)
                guard bytes.count <= Self.maxBytes else { throw ReadError(description: "larger than \(Self.maxBytes) bytes") }
            }
            return bytes
        }

        func fileURI(_ path: String) -> String {
            URL(fileURLWithPath: path).standardizedFileURL.absoluteString
        }

        func printLine(_ line: String) {
            print(line)
        }

        func printError(_ line: String) {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}
