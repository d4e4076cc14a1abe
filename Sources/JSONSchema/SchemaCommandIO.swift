/// What `refex schema validate` reads and writes, so that its logic runs in tests without
/// files or a terminal. The command line supplies the real file system and streams.
package protocol SchemaCommandIO: AnyObject {
    /// The bytes of the file at `path`.
    func readFile(_ path: String) throws -> [UInt8]
    /// The names of the regular files in the directory at `path`.
    func fileNames(inDirectory path: String) throws -> [String]
    /// Everything on standard input.
    func readStandardInput() throws -> [UInt8]
    /// An absolute `file:` URI for `path`, used as the schema's retrieval URI.
    func fileURI(_ path: String) -> String
    /// Writes a line to standard output.
    func printLine(_ line: String)
    /// Writes a line to standard error.
    func printError(_ line: String)
}
