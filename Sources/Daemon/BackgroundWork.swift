import Exchange
import Logging
import Store

/// How the daemon's background work (timers, backfills, the retention purge) reports how it
/// ended. A stop is not a failure: work cancelled by its service stopping, or whose store closed
/// under it, is run again at the next start (or run), so it ends with one info line; anything
/// else is an error.
enum BackgroundWork {
    /// Whether `error` says only that refex is stopping.
    static func isStop(_ error: any Error) -> Bool {
        error is CancellationError || (error as? StoreError)?.isStoreClosed == true
    }

    /// Logs `error` as `failed` (an error line with the error), or, when it is a stop, `stopped`
    /// (an info line saying when the work resumes).
    static func report(_ error: any Error, failed: String, stopped: String, logger: Logger) {
        if isStop(error) {
            logger.info(stopped)
        } else {
            logger.error(failed, [("error", "\(error)")])
        }
    }
}

extension BackgroundWork {
    /// The subject-index backfill the daemon runs once at start (`Exchange.backfillSubjectIndex`).
    static func backfillSubjectIndex(_ exchange: Exchange, logger: Logger) async {
        do {
            let indexed = try await exchange.backfillSubjectIndex()
            if indexed > 0 { logger.notice("subject indexes made for earlier referrals", [("referrals", String(indexed))]) }
        } catch {
            report(error, failed: "subject index backfill failed", stopped: "subject index backfill stopped with refex; it resumes at the next start", logger: logger)
        }
    }

    /// The sealing of plain-text justifications the daemon runs once at start (`Exchange.sealPlainJustifications`).
    static func sealPlainJustifications(_ exchange: Exchange, logger: Logger) async {
        do {
            let sealed = try await exchange.sealPlainJustifications()
            if sealed > 0 { logger.notice("sealed justifications kept in plain text", [("count", String(sealed))]) }
        } catch {
            report(
                error, failed: "sealing plain-text justifications failed",
                stopped: "sealing plain-text justifications stopped with refex; it resumes at the next start", logger: logger
            )
        }
    }
}
