import Foundation
import Timekeeping

/// RFC 3339 in UTC with whole seconds, e.g. `2026-11-29T07:16:37Z` (certificate dates in whoami).
package func rfc3339(_ date: Date) -> String {
    RFC3339.string(millisecondsSinceEpoch: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)), fraction: false)
}
