import Store

extension Configuration {
    /// The store the config names (`store.path`, `store.keysPath`), as Store opens it: the one
    /// place a config becomes a `StoreConfiguration`.
    package var storeConfiguration: StoreConfiguration {
        .sqlite(path: store.path, keysPath: store.keysPath)
    }
}
