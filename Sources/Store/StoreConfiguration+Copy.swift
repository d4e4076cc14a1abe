import Crypto
import Foundation

extension StoreConfiguration {
    /// Opens this store to take a copy (`refex store migrate`): created for `masterKey` where
    /// there is none, refused (when the import begins) where it holds anything. Throws `StoreError`.
    package func openForImport(masterKey: SymmetricKey) throws -> any StoreImporting {
        switch self {
        case .sqlite(let path, let keysPath):
            try SQLiteStoreImport(path: path, keysPath: keysPath, masterKey: masterKey)
        case .postgres(let settings):
            try PostgresStoreImport(settings: settings, masterKey: masterKey)
        }
    }

    /// Copies the stopped SQLite store at `path` and `keysPath` into this one, which must be empty:
    /// every row verbatim, keys first. Throws `StoreError`; the target is left as it was unless
    /// the error says otherwise.
    package func copy(fromSQLite path: String, keysPath: String, masterKey: SymmetricKey) throws -> StoreCopySummary {
        if case .sqlite(let target, let targetKeys) = self,
           [target, targetKeys].contains(where: { $0 == path || $0 == keysPath }) {
            throw StoreError("the target is the source: give another store to copy into")
        }
        let source = try SQLiteStoreExport(path: path, keysPath: keysPath, masterKey: masterKey)
        let target = try openForImport(masterKey: masterKey)
        return try StoreCopy.copy(from: source, to: target)
    }
}
