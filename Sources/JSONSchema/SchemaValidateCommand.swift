import JSON

/// The logic of `refex schema validate --schema FILE [--schema-dir DIR] DOCUMENT...`, which
/// partners run before they send.
///
/// Exit status: 0 if every document is valid, 1 if any is invalid (each error on its own
/// line), 2 if a document or schema cannot be read or parsed, or the arguments are wrong.
/// Format assertion is on, as in the daemon, unless `--format-annotation` asks for the 2020-12
/// default (`format` only annotates). Output never quotes document contents.
package enum SchemaValidateCommand {
    /// The usage text.
    package static let usage = """
        usage: refex schema validate --schema FILE [--schema-dir DIR] [--format-annotation] DOCUMENT...
          --schema FILE        the schema to validate against (draft 2020-12)
          --schema-dir DIR     register every *.json schema in DIR, for $ref by $id (repeatable)
          --format-annotation  treat "format" as an annotation only, the 2020-12 default; by default
                               it is asserted (date-time, email...), as refex does when it receives
          DOCUMENT             a JSON file to validate, or - for standard input
        exit status: 0 all valid, 1 some invalid, 2 unreadable input or bad arguments
        """

    private struct Arguments {
        var schema: String
        var schemaDirectories: [String]
        var documents: [String]
        var assertFormats: Bool
    }

    private static func parse(_ arguments: [String]) -> Arguments? {
        guard arguments.first == "validate" else { return nil }
        var schema: String?
        var directories: [String] = []
        var documents: [String] = []
        var index = 1
        var optionsEnded = false
        var assertFormats = true
        while index < arguments.count {
            let argument = arguments[index]
            if !optionsEnded, argument == "--format-annotation" {
                assertFormats = false
                index += 1
                continue
            }
            if !optionsEnded, argument == "--schema" || argument == "--schema-dir" {
                guard index + 1 < arguments.count else { return nil }
                if argument == "--schema" {
                    guard schema == nil else { return nil }
                    schema = arguments[index + 1]
                } else {
                    directories.append(arguments[index + 1])
                }
                index += 2
                continue
            }
            if !optionsEnded, argument == "--" {
                optionsEnded = true
            } else if !optionsEnded, argument.hasPrefix("--") {
                return nil
            } else {
                documents.append(argument)
            }
            index += 1
        }
        guard let schema, !documents.isEmpty, documents.filter({ $0 == "-" }).count <= 1 else { return nil }
        return Arguments(schema: schema, schemaDirectories: directories, documents: documents, assertFormats: assertFormats)
    }

    /// Runs the command with the arguments after `schema`; returns the exit status.
    package static func run(_ arguments: [String], io: any SchemaCommandIO) -> Int32 {
        if arguments == ["--help"] || arguments == ["help"] || arguments == ["validate", "--help"] {
            io.printLine(usage)
            return 0
        }
        guard let parsed = parse(arguments) else {
            io.printError(usage)
            return 2
        }
        guard let schema = loadSchema(parsed, io: io) else { return 2 }
        var status: Int32 = 0
        for document in parsed.documents {
            let name = document == "-" ? "<stdin>" : document
            let bytes: [UInt8]
            do {
                bytes = document == "-" ? try io.readStandardInput() : try io.readFile(document)
            } catch {
                io.printError("\(name): cannot read: \(error)")
                status = 2
                continue
            }
            let value: JSONValue
            do {
                value = try JSONValue.parse(bytes)
            } catch {
                io.printError("\(name): not valid JSON: \(error)")
                status = 2
                continue
            }
            let result = schema.validate(value)
            if result.isValid {
                io.printLine("\(name): valid")
            } else {
                for error in result.errors { io.printLine("\(name): \(error)") }
                if status == 0 { status = 1 }
            }
        }
        return status
    }

    private static func loadSchema(_ arguments: Arguments, io: any SchemaCommandIO) -> Schema? {
        let registry = SchemaRegistry()
        for directory in arguments.schemaDirectories {
            let names: [String]
            do {
                names = try io.fileNames(inDirectory: directory).filter { $0.hasSuffix(".json") }.sorted()
            } catch {
                io.printError("\(directory): cannot read the schema directory: \(error)")
                return nil
            }
            for name in names {
                let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
                guard register(path, in: registry, io: io) != nil else { return nil }
            }
        }
        guard let uri = register(arguments.schema, in: registry, io: io) else { return nil }
        do {
            return try registry.compile(uri: uri, options: ValidationOptions(assertFormats: arguments.assertFormats, annotations: .none))
        } catch {
            guard error.code == .unresolvedReference else {
                io.printError("\(arguments.schema): invalid schema: \(error)")
                return nil
            }
            let hint = arguments.schemaDirectories.isEmpty
                ? "pass the folder that holds the schema it refers to with --schema-dir DIR (for refex's own schemas, the folder they are installed in)"
                : "no schema in \(arguments.schemaDirectories.joined(separator: ", ")) has that $id; add the folder that holds it with another --schema-dir"
            io.printError("\(arguments.schema): invalid schema: \(error); \(hint)")
            return nil
        }
    }

    private static func register(_ path: String, in registry: SchemaRegistry, io: any SchemaCommandIO) -> String? {
        do {
            let value = try JSONValue.parse(try io.readFile(path))
            return try registry.register(schema: value, retrievalURI: io.fileURI(path))
        } catch let error as JSONParseError {
            io.printError("\(path): schema is not valid JSON: \(error)")
        } catch let error as SchemaError {
            io.printError("\(path): invalid schema: \(error)")
        } catch {
            io.printError("\(path): cannot read the schema: \(error)")
        }
        return nil
    }
}
