import JSON

/// One schema resource: a schema object with its own canonical URI (a document root or a
/// subschema with `$id`), with the anchors defined inside it.
struct SchemaResource: Sendable {
    /// The canonical absolute URI, without fragment.
    var uri: String
    var location: SchemaLocation
    /// Plain-name fragments: from `$anchor` and from `$dynamicAnchor`.
    var anchors: [String: SchemaLocation] = [:]
    /// Fragments from `$dynamicAnchor` only.
    var dynamicAnchors: [String: SchemaLocation] = [:]
    /// The `$schema` in effect for the resource.
    var metaSchema: String
    /// Whether the URI was made up by the registry (no `$id`, no retrieval URI).
    var isAnonymous: Bool
}

/// A registered schema document.
struct RegisteredDocument: Sendable {
    var value: JSONValue
    /// The resources whose roots are in this document, by pointer.
    var resourceRoots: [[String]: Int]
}

/// The registry's contents: a value, so that compiling can add to a private copy.
struct RegistryState: Sendable {
    var documents: [RegisteredDocument] = []
    var resources: [SchemaResource] = []
    var resourceByURI: [String: Int] = [:]
    var anonymousCount = 0

    /// Subschema nesting deeper than this (in JSON Pointer tokens) is refused.
    static let maxSchemaPointerDepth = 256

    private static func isAnchorName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, (first >= "a" && first <= "z") || (first >= "A" && first <= "Z") || first == "_" else {
            return false
        }
        return name.unicodeScalars.allSatisfy { scalar in
            (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
                || scalar == "-" || scalar == "_" || scalar == "."
        }
    }

    static func locationDescription(_ uri: String, _ pointer: [String]) -> String {
        uri + "#" + JSONPointer(tokens: pointer).description
    }

    /// Registers a document; returns the index of its root resource. Registering the same
    /// document under the same URIs again changes nothing.
    mutating func register(_ value: JSONValue, retrievalURI: String?) throws(SchemaError) -> Int {
        switch value {
        case .object, .bool: break
        default:
            throw SchemaError(code: .notASchema, location: retrievalURI ?? "", message: "a schema must be a JSON object or boolean, not \(value.typeName)")
        }
        let base: URIReference
        var isAnonymous = false
        if let retrievalURI {
            let parsed = URIReference(retrievalURI)
            guard parsed.isAbsolute else {
                throw SchemaError(code: .invalidIdentifier, location: retrievalURI, message: "the retrieval URI must be absolute")
            }
            base = parsed.withoutFragment
        } else {
            anonymousCount += 1
            base = URIReference("urn:refex:anonymous-schema:\(anonymousCount)")
            isAnonymous = true
        }

        let documentIndex = documents.count
        var newResources: [SchemaResource] = []
        var newURIs: [String: Int] = [:]
        var roots: [[String]: Int] = [:]

        struct Pending {
            var value: JSONValue
            var pointer: [String]
            var base: URIReference
            var resource: Int  // index into newResources
            var metaSchema: String
        }

        func claim(_ uri: String, for resource: Int, at pointer: [String]) throws(SchemaError) {
            if newURIs[uri] != nil || resourceByURI[uri] != nil {
                throw SchemaError(code: .duplicateIdentifier, location: Self.locationDescription(base.description, pointer),
                                  message: "the URI \(uri) is already used by another schema")
            }
            newURIs[uri] = resource
        }

        // The root is a resource whether or not it has an $id.
        var rootMeta = Keyword.metaSchema2020
        if case .object(let object) = value, let schema = object["$schema"] {
            guard let text = schema.stringValue, URIReference(text).isAbsolute else {
                throw SchemaError(code: .invalidKeyword, location: Self.locationDescription(base.description, ["$schema"]), message: "$schema must be an absolute URI")
            }
            rootMeta = URIReference(text).withoutFragment.description
        }
        newResources.append(SchemaResource(uri: base.description, location: SchemaLocation(document: documentIndex, pointer: []),
                                           metaSchema: rootMeta, isAnonymous: isAnonymous))
        roots[[]] = 0
        var stack = [Pending(value: value, pointer: [], base: base, resource: 0, metaSchema: rootMeta)]
        var retrievalAlias: String?
        if !isAnonymous { retrievalAlias = base.description }

        while var item = stack.popLast() {
            guard case .object(let object) = item.value else { continue }
            guard item.pointer.count <= Self.maxSchemaPointerDepth else {
                throw SchemaError(code: .tooDeep, location: Self.locationDescription(base.description, item.pointer), message: "subschemas are nested too deeply")
            }
            let here = { (key: String) in Self.locationDescription(newResources[item.resource].uri, item.pointer + [key]) }
            if let id = object["$id"] {
                guard let text = id.stringValue else {
                    throw SchemaError(code: .invalidKeyword, location: here("$id"), message: "$id must be a string")
                }
                let reference = URIReference(text)
                if let fragment = reference.fragment, !fragment.isEmpty {
                    throw SchemaError(code: .invalidIdentifier, location: here("$id"), message: "$id must not have a fragment; use $anchor")
                }
                let resolved = item.base.resolving(reference).withoutFragment
                guard resolved.isAbsolute else {
                    throw SchemaError(code: .invalidIdentifier, location: here("$id"), message: "$id does not resolve to an absolute URI")
                }
                if item.pointer.isEmpty {
                    // The root's $id renames the root resource; the retrieval URI stays an alias.
                    newResources[0].uri = resolved.description
                    newResources[0].isAnonymous = false
                } else {
                    var meta = item.metaSchema
                    if let schema = object["$schema"]?.stringValue, URIReference(schema).isAbsolute {
                        meta = URIReference(schema).withoutFragment.description
                    }
                    newResources.append(SchemaResource(uri: resolved.description, location: SchemaLocation(document: documentIndex, pointer: item.pointer),
                                                       metaSchema: meta, isAnonymous: false))
                    item.resource = newResources.count - 1
                    item.metaSchema = meta
                    roots[item.pointer] = item.resource
                }
                item.base = resolved
            }
            let location = SchemaLocation(document: documentIndex, pointer: item.pointer)
            for keyword in ["$anchor", "$dynamicAnchor"] {
                guard let anchor = object[keyword] else { continue }
                guard let name = anchor.stringValue, Self.isAnchorName(name) else {
                    throw SchemaError(code: .invalidIdentifier, location: here(keyword), message: "\(keyword) must be a name of letters, digits, '-', '_' and '.', starting with a letter or '_'")
                }
                if let existing = newResources[item.resource].anchors[name], existing != location {
                    throw SchemaError(code: .duplicateIdentifier, location: here(keyword), message: "the anchor '\(name)' is defined twice in the same schema resource")
                }
                newResources[item.resource].anchors[name] = location
                if keyword == "$dynamicAnchor" { newResources[item.resource].dynamicAnchors[name] = location }
            }
            for (key, child) in object {
                if Keyword.singleSubschema.contains(key) {
                    stack.append(Pending(value: child, pointer: item.pointer + [key], base: item.base, resource: item.resource, metaSchema: item.metaSchema))
                } else if Keyword.subschemaArray.contains(key), case .array(let elements) = child {
                    for (index, element) in elements.enumerated() {
                        stack.append(Pending(value: element, pointer: item.pointer + [key, String(index)], base: item.base, resource: item.resource, metaSchema: item.metaSchema))
                    }
                } else if Keyword.subschemaObject.contains(key), case .object(let members) = child {
                    for (name, member) in members {
                        stack.append(Pending(value: member, pointer: item.pointer + [key, name], base: item.base, resource: item.resource, metaSchema: item.metaSchema))
                    }
                }
            }
        }

        // Idempotence: the same document registered again under the same root URI.
        if let existing = resourceByURI[newResources[0].uri] {
            let resource = resources[existing]
            if resource.location.pointer.isEmpty, documents[resource.location.document].value == value {
                if let retrievalAlias, resourceByURI[retrievalAlias] == nil { resourceByURI[retrievalAlias] = existing }
                return existing
            }
        }
        for (index, resource) in newResources.enumerated() {
            try claim(resource.uri, for: index, at: resource.location.pointer)
        }
        if let retrievalAlias, retrievalAlias != newResources[0].uri {
            try claim(retrievalAlias, for: 0, at: [])
        }

        let offset = resources.count
        resources.append(contentsOf: newResources)
        for (uri, index) in newURIs { resourceByURI[uri] = index + offset }
        documents.append(RegisteredDocument(value: value, resourceRoots: roots.mapValues { $0 + offset }))
        return offset
    }

    /// The value at a location, if there is one.
    func value(at location: SchemaLocation) -> JSONValue? {
        documents[location.document].value.value(at: JSONPointer(tokens: location.pointer))
    }

    /// The resource whose root most closely encloses `location`.
    func enclosingResource(of location: SchemaLocation) -> Int {
        let roots = documents[location.document].resourceRoots
        var pointer = location.pointer
        while true {
            if let resource = roots[pointer] { return resource }
            if pointer.isEmpty { break }
            pointer.removeLast()
        }
        preconditionFailure("every document has a root resource")
    }

    /// The location an absolute URI (with optional fragment) names, if registered.
    func resolve(_ uri: URIReference) -> SchemaLocation? {
        guard let index = resourceByURI[uri.withoutFragment.description] else { return nil }
        let resource = resources[index]
        guard let fragment = uri.fragment, !fragment.isEmpty else { return resource.location }
        guard let decoded = URIReference.percentDecoded(fragment) else { return nil }
        if decoded.hasPrefix("/") {
            guard let pointer = try? JSONPointer(parsing: decoded) else { return nil }
            let location = SchemaLocation(document: resource.location.document, pointer: resource.location.pointer + pointer.tokens)
            return value(at: location) == nil ? nil : location
        }
        return resource.anchors[decoded]
    }
}
