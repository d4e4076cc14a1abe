import TestSupport
import XCTest

extension XCTestCase {
    /// Marks a test whose point is the SQLite store's files (tampering with rows, `strings` on
    /// them, backups, the WAL, a full disk): skipped when the store under test is another
    /// (`REFEX_TEST_STORE`). Every other test reads state through refex and runs on any store.
    func sqliteOnly() throws {
        try XCTSkipUnless(SQLiteFiles.isStoreUnderTest, "about the SQLite store's files; the store under test is \(SQLiteFiles.storeUnderTest)")
    }
}
