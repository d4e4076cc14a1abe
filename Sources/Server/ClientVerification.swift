import Foundation
import TLS

/// A connection's verified client: the chain, the TLS context that verified it, and the moment that
/// verification stops holding (the earliest notAfter in the chain, or the CRLs' next update).
///
/// A handshake verifies once; a connection may then live, and a session be resumed, long after.
/// This is checked again on resumption and before every request, and verified afresh whenever the
/// listener's context has been replaced (a reload: new CA bundle or CRL).
struct ClientVerification {
    /// The client's certificate first, the trust anchor (a client CA certificate) last.
    private(set) var chain: [Certificate]
    private let presented: [Certificate]
    private var context: TLSServerContext
    private var validUntil: Date

    private init(chain: [Certificate], presented: [Certificate], context: TLSServerContext) {
        self.chain = chain
        self.presented = presented
        self.context = context
        validUntil = ClientVerification.expiry(of: chain, under: context)
    }

    /// After a handshake. `verified` is what OpenSSL verified in it: nil for a resumed session, which is
    /// then verified now, as is a chain verified under a context that a reload has since replaced.
    static func establish(
        verified: [Certificate]?, presented: [Certificate], handshakeContext: TLSServerContext, current: TLSServerContext, now: Date
    ) -> Result<ClientVerification, TLSFailure> {
        if let verified, !verified.isEmpty, handshakeContext === current {
            let verification = ClientVerification(chain: verified, presented: presented, context: current)
            if now < verification.validUntil { return .success(verification) }
        }
        return current.verifyClientChain(presented, at: now).map {
            ClientVerification(chain: $0, presented: presented, context: current)
        }
    }

    /// Whether the client still passes under `current` at `now`: nil if so, else why not.
    mutating func recheck(current: TLSServerContext, now: Date) -> TLSFailure? {
        if current === context && now < validUntil { return nil }
        switch current.verifyClientChain(presented, at: now) {
        case .success(let chain):
            self = ClientVerification(chain: chain, presented: presented, context: current)
            return nil
        case .failure(let failure):
            return failure
        }
    }

    private static func expiry(of chain: [Certificate], under context: TLSServerContext) -> Date {
        var until = chain.map(\.notAfter).min() ?? .distantPast
        if let next = context.crlNextUpdate { until = min(until, next) }
        return until
    }
}
