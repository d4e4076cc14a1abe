import Exchange
import JSON
import Timekeeping

/// The partner API's JSON for each of Exchange's typed answers (DESIGN.md, "The HTTP contract"),
/// one function per type. The same values are what a console renders as HTML and the CLI as
/// tables; this is their JSON, for `/v1` and for `--json` and the CLI's JSON output.
///
/// Member order is part of what partners see and stays as it is. The four stored receipts
/// (referral, consent, consent withdrawal, subject withdrawal) are stored rendered, so their JSON
/// lives with them in Exchange (`json`); a repeat answers with the stored answer unchanged
/// (`firstAnswer`), byte for byte whatever refex version stored it.
package enum Rendering {
    // MARK: Stored receipts

    package static func json(_ receipt: ReferralReceipt) -> JSONValue { receipt.firstAnswer ?? receipt.json }

    package static func json(_ receipt: ConsentReceipt) -> JSONValue { receipt.firstAnswer ?? receipt.json }

    package static func json(_ withdrawal: ConsentWithdrawal) -> JSONValue { withdrawal.firstAnswer ?? withdrawal.json }

    package static func json(_ withdrawal: SubjectWithdrawal) -> JSONValue { withdrawal.firstAnswer ?? withdrawal.json }

    // MARK: Referrals and consents

    /// A disclosure in full: the summary, then basis, consent, justification (when it may be
    /// shown), who authorised (or, with no basis yet, who asked for) it, pointers, categories.
    package static func json(_ disclosure: DisclosureDetail) -> JSONValue {
        guard case .object(var object) = disclosure.summary.json else { return .null }
        object["lawfulBasis"] = disclosure.lawfulBasis.map { .string($0.rawValue) } ?? .null
        object["consentId"] = disclosure.consentID.map { .string($0) } ?? .null
        if let justification = disclosure.justification { object["justification"] = .string(justification) }
        if let authoriser = disclosure.authorisedBy {
            object["authorisedBy"] = .string(authoriser)
        } else {
            object["authorisedBy"] = .null
            object["requestedBy"] = .string(disclosure.actor)
        }
        object["pointers"] = .array(disclosure.pointers.map { .string($0) })
        object["categories"] = .array(disclosure.categories.map { .string($0) })
        object["updatedAt"] = .string(disclosure.updatedAt.description)
        return .object(object)
    }

    package static func json(_ referral: ReferralView) -> JSONValue {
        var body: JSONObject = [
            "id": .string(referral.id),
            "status": .string(referral.status),
            "schema": .string(referral.schemaID),
            "subjectId": .string(referral.subjectID),
            "receivedAt": .string(referral.receivedAt.description),
            "disclosures": .array(referral.disclosures.map(json)),
        ]
        if let erasedAt = referral.erasedAt { body["erasedAt"] = .string(erasedAt.description) }
        return .object(body)
    }

    package static func json(_ view: ConsentView) -> JSONValue {
        let consent = view.record
        var object: JSONObject = [
            "id": .string(consent.id), "referralId": .string(consent.referralID), "subjectId": .string(consent.subjectID),
            "partner": .string(consent.partnerID), "purposes": strings(consent.purposes),
            "recipients": consent.recipients.map(strings) ?? .null,
            "method": .string(consent.method), "obtainedAt": .string(consent.obtainedAt.description),
            "expiresAt": time(consent.expiresAt), "withdrawnAt": time(consent.withdrawnAt),
            "recordedAt": .string(consent.recordedAt.description),
            "state": .string(view.state.rawValue),
        ]
        switch view.details {
        case .notAsked: break
        case .shown(let details): object["details"] = details
        case .erased:
            object["details"] = .null
            object["detailsErased"] = true
        }
        return .object(object)
    }

    // MARK: Subject rights

    package static func json(_ export: SubjectExport) -> JSONValue {
        [
            "subjectId": .string(export.subjectID),
            "createdAt": .string(export.createdAt.description),
            "restricted": .bool(export.restricted),
            "erasedAt": time(export.erasedAt),
            "referrals": .array(export.referrals.map { referral in
                [
                    "id": .string(referral.id), "partner": .string(referral.partnerID), "schema": .string(referral.schemaID),
                    "receivedAt": .string(referral.receivedAt.description), "document": referral.document ?? .null,
                ]
            }),
            "consents": .array(export.consents.map { exported in
                let consent = exported.record
                var object: JSONObject = [
                    "id": .string(consent.id), "referralId": .string(consent.referralID), "partner": .string(consent.partnerID),
                    "purposes": strings(consent.purposes), "recipients": consent.recipients.map(strings) ?? .null,
                    "method": .string(consent.method), "obtainedAt": .string(consent.obtainedAt.description),
                    "expiresAt": time(consent.expiresAt), "withdrawnAt": time(consent.withdrawnAt),
                ]
                if let details = exported.details { object["details"] = details }
                return .object(object)
            }),
            "disclosures": .array(export.disclosures.map(json)),
            "log": .array(export.log.map(\.json)),
            "exportedAt": .string(export.exportedAt.description),
        ]
    }

    package static func json(_ erasure: ErasureOutcome) -> JSONValue {
        var object: JSONObject = ["subjectId": .string(erasure.subjectID), "erasedAt": .string(erasure.erasedAt.description)]
        if erasure.alreadyErased { object["alreadyErased"] = true }
        object["cancelled"] = strings(erasure.cancelled)
        object["erasureNotices"] = .array(erasure.notices.map { .string($0.recipientID) })
        object["notices"] = .array(erasure.notices.map(\.json))
        return .object(object)
    }

    package static func json(_ restriction: RestrictionOutcome) -> JSONValue {
        ["subjectId": .string(restriction.subjectID), "restricted": .bool(restriction.restricted), "changed": strings(restriction.changed)]
    }

    package static func json(_ rectification: RectificationOutcome) -> JSONValue {
        [
            "subjectId": .string(rectification.subjectID), "changed": strings(rectification.changed),
            "rectificationNotices": strings(rectification.noticeRecipients),
        ]
    }

    // MARK: Retention

    package static func json(_ report: RetentionReport) -> JSONValue {
        [
            "subjectsErased": .number(JSONNumber(report.subjectsErased)),
            "consentDetailsErased": .number(JSONNumber(report.consentDetailsErased)),
            "logPrunedThrough": report.logPrunedThrough.map { .number(JSONNumber($0)) } ?? .null,
        ]
    }

    package static func json(_ status: RetentionStatus) -> JSONValue {
        func kind(_ kind: RetentionStatus.Kind) -> JSONValue {
            switch kind {
            case .forever:
                return ["retention": "forever"]
            case .kept(let retention, let nextDue, let overdue):
                return [
                    "retentionDays": .number(JSONNumber(Double(retention.wholeMilliseconds) / 86_400_000)),
                    "nextDue": time(nextDue),
                    "overdue": .bool(overdue),
                ]
            }
        }
        return [
            "referrals": kind(status.referrals),
            "consents": kind(status.consents),
            "log": kind(status.log),
            "logAnchor": status.logAnchor.map { ["seq": .number(JSONNumber($0.seq)), "hash": .string($0.hash)] } ?? .null,
        ]
    }

    // MARK: Mailbox and log

    package static func json(_ page: MailboxPage) -> JSONValue {
        [
            "items": .array(page.items.map { item in
                [
                    "id": .string(item.id), "type": .string(item.kind.rawValue), "disclosureId": .string(item.disclosureID),
                    "recipient": .string(item.recipientID), "enqueuedAt": .string(item.enqueuedAt.description),
                ]
            }),
            "next": page.next.map { .string($0) } ?? .null,
        ]
    }

    package static func json(_ acknowledgement: Acknowledgement) -> JSONValue {
        ["id": .string(acknowledgement.itemID), "state": "delivered", "acknowledgedAt": time(acknowledgement.acknowledgedAt)]
    }

    package static func json(_ page: LogPage) -> JSONValue {
        ["entries": .array(page.entries.map(\.json)), "next": page.next.map { .number(JSONNumber($0)) } ?? .null]
    }

    /// `GET /v1/disclosures/verify` and `refex log verify --json`.
    package static func json(_ report: LogVerificationReport) -> JSONValue {
        var object: JSONObject = [
            "valid": .bool(report.isValid),
            "entries": .number(JSONNumber(report.entries)),
            "lastSeq": .number(JSONNumber(report.lastSeq)),
            "lastHash": .string(report.lastHash),
            "checkpointsChecked": .number(JSONNumber(report.checkpointsChecked)),
            "signaturesChecked": .bool(report.signaturesChecked),
        ]
        // The checkpoint as `refex log checkpoint` prints it (an auditor's file format, Exchange's).
        object["lastCheckpoint"] = report.lastCheckpoint.map { $0.json(publicKey: nil) } ?? .null
        object["prunedThrough"] = report.prunedThrough.map { .number(JSONNumber($0)) } ?? .null
        if report.keptCheckpointPruned { object["keptCheckpoint"] = "pruned by retention; not checked" }
        if let failure = report.failure {
            object["failure"] = ["seq": .number(JSONNumber(failure.seq)), "reason": .string(failure.reason)]
        }
        return .object(object)
    }

    // MARK: Subjects found

    /// One subject in `GET /v1/subjects?…` and a line of `refex subject find --json`.
    package static func json(_ match: SubjectMatch) -> JSONValue {
        [
            "subjectId": .string(match.subjectID),
            "matchedBy": .array(match.matchedBy.map { .string($0.rawValue) }),
            "createdAt": .string(match.createdAt.description),
            "restricted": .bool(match.restricted),
            "referrals": .array(match.referrals.map { referral in
                ["id": .string(referral.id), "partner": .string(referral.partner), "receivedAt": .string(referral.receivedAt.description)]
            }),
        ]
    }

    // MARK: Pieces

    private static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }

    private static func time(_ timestamp: Timestamp?) -> JSONValue { timestamp.map { .string($0.description) } ?? .null }
}
