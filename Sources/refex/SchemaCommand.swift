// Placeholder until the JSON Schema work lands.
enum SchemaCommand {
    static func run(_ arguments: [String]) -> Int32 {
        printError("refex schema: not available in this build")
        return 2
    }
}
