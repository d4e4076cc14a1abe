import Foundation

/// Unicode normalization, which only Foundation offers.
enum FoundationNFC {
    /// `string` in Normalization Form C.
    static func precomposed(_ string: String) -> String {
        string.precomposedStringWithCanonicalMapping
    }
}
