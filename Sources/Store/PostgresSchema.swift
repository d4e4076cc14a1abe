import Foundation
import Postgres

/// The PostgreSQL store's tables, as versioned migrations (the same tables as `StoreSchema`'s
/// SQLite ones, in PostgreSQL's types: BIGINT for integers and milliseconds, BYTEA for bytes,
/// TEXT in the "C" collation so that ids order bytewise as on SQLite). Never edit a shipped
/// migration: add one. Every migration only adds (or replaces an index with one that serves the
/// same queries), so that nodes of the same version keep running while another applies it.
enum PostgresSchema {
    private static let text = "TEXT COLLATE \"C\""

    static let main = PostgresMigrator(database: "data", [
        """
        CREATE TABLE subjects (
            id \(text) PRIMARY KEY,
            created_at BIGINT NOT NULL,
            restricted BIGINT NOT NULL DEFAULT 0 CHECK (restricted IN (0, 1)),
            erased_at BIGINT,
            withdrawal_receipt BYTEA
        );

        CREATE TABLE referrals (
            id \(text) PRIMARY KEY,
            partner_id \(text) NOT NULL,
            reference_key BYTEA NOT NULL,
            subject_id \(text) NOT NULL REFERENCES subjects(id),
            schema_id \(text) NOT NULL,
            body_digest BYTEA NOT NULL,
            sealed_body BYTEA,
            received_at BIGINT NOT NULL,
            receipt BYTEA NOT NULL,
            UNIQUE (partner_id, reference_key)
        );
        CREATE INDEX referrals_subject ON referrals(subject_id);

        CREATE TABLE consents (
            id \(text) PRIMARY KEY,
            subject_id \(text) NOT NULL REFERENCES subjects(id),
            referral_id \(text) NOT NULL REFERENCES referrals(id),
            partner_id \(text) NOT NULL,
            purposes \(text) NOT NULL,
            recipients \(text),
            method \(text) NOT NULL,
            obtained_at BIGINT NOT NULL,
            expires_at BIGINT,
            withdrawn_at BIGINT,
            sealed_details BYTEA,
            recorded_at BIGINT NOT NULL,
            document_digest BYTEA,
            receipt BYTEA,
            withdrawal_receipt BYTEA
        );
        CREATE INDEX consents_subject ON consents(subject_id);
        CREATE INDEX consents_document ON consents(referral_id, document_digest);

        CREATE TABLE disclosures (
            id \(text) PRIMARY KEY,
            referral_id \(text) NOT NULL REFERENCES referrals(id),
            subject_id \(text) NOT NULL REFERENCES subjects(id),
            recipient_id \(text),
            service \(text) NOT NULL,
            state \(text) NOT NULL,
            lawful_basis \(text),
            consent_id \(text),
            justification \(text),
            justification_digest \(text),
            actor \(text) NOT NULL,
            pointers \(text) NOT NULL,
            categories \(text) NOT NULL,
            reason \(text),
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            -- SQLite's rowid: ties of created_at keep insertion order.
            row_order BIGINT GENERATED ALWAYS AS IDENTITY
        );
        CREATE INDEX disclosures_referral ON disclosures(referral_id);
        CREATE INDEX disclosures_subject ON disclosures(subject_id);

        CREATE TABLE outbox (
            id \(text) PRIMARY KEY,
            kind \(text) NOT NULL,
            disclosure_id \(text) NOT NULL REFERENCES disclosures(id),
            recipient_id \(text) NOT NULL,
            mode \(text) NOT NULL,
            payload BYTEA,
            state \(text) NOT NULL,
            enqueued_at BIGINT NOT NULL,
            next_attempt_at BIGINT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            last_error \(text),
            -- A claim (issue 14): the node holding the item for one attempt, until (ms).
            lease_holder \(text),
            lease_until BIGINT
        );
        CREATE INDEX outbox_due ON outbox(recipient_id, state, mode, next_attempt_at);
        CREATE INDEX outbox_recipient ON outbox(recipient_id, state, enqueued_at);
        CREATE INDEX outbox_disclosure ON outbox(disclosure_id);

        CREATE TABLE log_entries (
            seq BIGINT PRIMARY KEY,
            time BIGINT NOT NULL,
            event \(text) NOT NULL,
            actor \(text) NOT NULL,
            referral_id \(text),
            subject_id \(text),
            disclosure_id \(text),
            recipient_id \(text),
            lawful_basis \(text),
            entry BYTEA NOT NULL,
            hash \(text) NOT NULL
        );
        CREATE INDEX log_subject ON log_entries(subject_id, seq);
        CREATE INDEX log_referral ON log_entries(referral_id, seq);
        CREATE INDEX log_recipient ON log_entries(recipient_id, seq);
        CREATE INDEX log_event ON log_entries(event, seq);
        CREATE INDEX log_time ON log_entries(time);
        CREATE INDEX log_disclosure ON log_entries(disclosure_id);
        CREATE INDEX log_actor ON log_entries(actor, seq);

        CREATE TABLE log_anchor (
            id BIGINT PRIMARY KEY CHECK (id = 1),
            seq BIGINT NOT NULL,
            hash \(text) NOT NULL
        );

        -- One checkpoint per position: a second node signing the same head stores nothing.
        CREATE TABLE checkpoints (
            seq BIGINT PRIMARY KEY,
            hash \(text) NOT NULL,
            time BIGINT NOT NULL,
            signature BYTEA NOT NULL,
            key_id \(text) NOT NULL
        );

        CREATE TABLE free_texts (
            digest \(text) PRIMARY KEY,
            subject_id \(text) NOT NULL REFERENCES subjects(id),
            sealed BYTEA NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE INDEX free_texts_subject ON free_texts(subject_id);

        CREATE TABLE acknowledgements (
            item_id \(text) PRIMARY KEY,
            recipient_id \(text) NOT NULL,
            acknowledged_at BIGINT NOT NULL
        );

        CREATE TABLE store_identity (
            id BIGINT PRIMARY KEY CHECK (id = 1),
            store_id \(text) NOT NULL,
            key_check \(text) NOT NULL,
            created_at BIGINT NOT NULL,
            probed_at BIGINT
        );
        """,
        // As the SQLite store's migration 7 (issue 17): entries with no recipient or disclosure,
        // and consents with no document, leave those indexes alone (each query on them names a
        // value); `outbox_disclosure` served no query. Nodes still on migration 1 run the same
        // queries on these indexes.
        StoreSchema.partialIndexesOfMigrationSeven,
        // As the SQLite store's migration 8: `log list --lawful-basis` searches the overrides' entries only.
        """
        CREATE INDEX log_lawful_basis ON log_entries(lawful_basis, seq) WHERE lawful_basis IS NOT NULL;
        """,
        // As the SQLite store's migration 9: what `/metrics` counts, kept by triggers in each
        // change's commit (PostgresTransaction takes the log head's lock before such a change, so
        // that nodes take the count rows in one order). Nodes still on an older version move the
        // counts too: the triggers are the database's.
        """
        CREATE TABLE store_counts (
            name \(text) PRIMARY KEY,
            total BIGINT NOT NULL
        );
        -- Writers of nodes still running wait until the counts and their triggers are in place.
        LOCK TABLE referrals, disclosures IN SHARE ROW EXCLUSIVE MODE;
        INSERT INTO store_counts (name, total) SELECT 'referrals', count(*) FROM referrals;
        INSERT INTO store_counts (name, total) SELECT 'disclosures.' || state, count(*) FROM disclosures GROUP BY state;

        CREATE FUNCTION refex_count_referrals() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO store_counts (name, total) VALUES ('referrals', 1) ON CONFLICT (name) DO UPDATE SET total = store_counts.total + 1;
            ELSE
                UPDATE store_counts SET total = total - 1 WHERE name = 'referrals';
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER referrals_counted AFTER INSERT OR DELETE ON referrals FOR EACH ROW EXECUTE FUNCTION refex_count_referrals();

        CREATE FUNCTION refex_count_disclosures() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.state = NEW.state THEN
                RETURN NULL;
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                UPDATE store_counts SET total = total - 1 WHERE name = 'disclosures.' || OLD.state;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO store_counts (name, total) VALUES ('disclosures.' || NEW.state, 1)
                ON CONFLICT (name) DO UPDATE SET total = store_counts.total + 1;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER disclosures_counted AFTER INSERT OR DELETE OR UPDATE OF state ON disclosures
        FOR EACH ROW EXECUTE FUNCTION refex_count_disclosures();
        """,
    ])

    /// Subject keys and blind indexes, in their own database (backed up and kept on their own
    /// schedule); erasure deletes the key and the writer vacuums these tables afterwards.
    static let keys = PostgresMigrator(database: "keys", [
        """
        CREATE TABLE subject_keys (
            subject_id \(text) PRIMARY KEY,
            wrapped BYTEA NOT NULL,
            created_at BIGINT NOT NULL
        );

        CREATE TABLE subject_index (
            kind \(text) NOT NULL,
            digest BYTEA NOT NULL,
            subject_id \(text) NOT NULL,
            referral_id \(text) NOT NULL,
            PRIMARY KEY (kind, digest, referral_id)
        );
        CREATE INDEX subject_index_subject ON subject_index(subject_id);
        CREATE INDEX subject_index_referral ON subject_index(referral_id);
        CREATE TABLE subject_index_backfill (
            id BIGINT PRIMARY KEY CHECK (id = 1),
            after_referral \(text) NOT NULL
        );
        INSERT INTO subject_index_backfill (id, after_referral) VALUES (1, '');

        CREATE TABLE store_identity (
            id BIGINT PRIMARY KEY CHECK (id = 1),
            store_id \(text) NOT NULL,
            key_check \(text) NOT NULL,
            created_at BIGINT NOT NULL,
            probed_at BIGINT
        );
        """,
    ])

    /// Advisory lock keys (per database): migrations, and the head of the disclosure log.
    static let migrationLock: Int64 = 0x7265_6665_7801
    static let logHeadLock: Int64 = 0x7265_6665_7802
}

/// Versioned migrations on PostgreSQL: `refex_schema_version` holds how many have run. Two nodes
/// starting at once take turns on a session advisory lock; each migration commits with its
/// version, so that one interrupted half-way is run again whole.
struct PostgresMigrator: Sendable {
    let database: String
    let migrations: [String]

    init(database: String, _ migrations: [String]) {
        self.database = database
        self.migrations = migrations
    }

    var latestVersion: Int { migrations.count }

    /// The schema version of `connection`'s database (0: no refex tables yet).
    func version(_ connection: PostgresConnection) throws -> Int {
        guard try connection.first("SELECT to_regclass('refex_schema_version') IS NOT NULL")?[0].boolean == true else { return 0 }
        return Int(try connection.first("SELECT version FROM refex_schema_version WHERE id = 1")?.integer(0) ?? 0)
    }

    /// Brings `connection`'s database up to this binary's version. Throws `StoreError` for a
    /// database of a newer version (a newer refex migrated it): nothing is changed.
    func migrate(_ connection: PostgresConnection, name: String) throws {
        try connection.query("SELECT true FROM pg_advisory_lock($1)", [PostgresSchema.migrationLock])
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [PostgresSchema.migrationLock]) }
        try connection.execute(
            "CREATE TABLE IF NOT EXISTS refex_schema_version (id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)"
        )
        let current = try version(connection)
        try refuseNewer(current, name: name)
        for (index, sql) in migrations.enumerated() where index >= current {
            try connection.execute("BEGIN")
            do {
                try connection.execute(sql)
                try connection.query(
                    "INSERT INTO refex_schema_version (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version",
                    [index + 1]
                )
                try connection.execute("COMMIT")
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }

    func refuseNewer(_ version: Int, name: String) throws(StoreError) {
        guard version > latestVersion else { return }
        throw StoreError(
            "the \(database) database \(name) has schema version \(version), newer than this refex knows (\(latestVersion)): "
                + "a newer refex has used it; run that version (or newer) of refex, never an older one, against it",
            kind: .other
        )
    }
}
