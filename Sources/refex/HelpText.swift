import Daemon
import JSONSchema

/// Long help for `refex help TOPIC` and `refex COMMAND --help`: what a man page would say.
///
/// Each command's synopsis is its own `usage` (kept beside its parser); the text here adds what
/// the options mean. A new command adds one `Topic` to `topics` (and its line to
/// `CommandLineTool.usage`); `HelpTests` checks that every command in the usage has a topic.
enum HelpText {
    struct Topic: Sendable {
        /// The command's name, as typed after `refex`.
        var name: String
        var text: @Sendable () -> String
    }

    static let topics: [Topic] = [
        Topic(name: "serve") { serve },
        Topic(name: "config") { config },
        Topic(name: "schema") { schema },
        Topic(name: "log") { log },
        Topic(name: "subject") { subject },
        Topic(name: "consent") { consent },
        Topic(name: "outbox") { outbox },
        Topic(name: "retention") { retention },
        Topic(name: "keys") { keys },
        Topic(name: "backup") { BackupCommand.usage },
        Topic(name: "store") { StoreCommand.usage },
        Topic(name: "sink") { SinkCommand.usage },
        Topic(name: "help") { help },
        Topic(name: "version") { "usage: refex version\n\nPrints the version (also: refex --version)." },
    ]

    /// The help for `command`, or nil when there is no such command.
    static func text(for command: String) -> String? {
        topics.first { $0.name == command }?.text()
    }

    /// Where the running binary is installed (`/usr` when it is not): the paths help names are real.
    static var prefix: String { InstallLayout.prefix == "/" ? "" : InstallLayout.prefix }

    /// The folder of the schemas installed with this binary.
    static var schemas: String { InstallLayout.schemas }

    /// The options every host command takes; `json` for those that print tables.
    static func hostOptions(json: Bool) -> String {
        var text = """
        HOST OPTIONS
          --config FILE, -c FILE   the daemon's config (default /etc/refex/refex.json): its store, keys
                                   and settings. Run as a user who can read them (root, or refex).
          --store PATH             a store file instead (e.g. a backup copy under inspection); commands
                                   that decrypt need --config (the master key) and refuse it.
        """
        if json {
            text += "\n  --json                   one JSON object per line, for machines, instead of a table."
        }
        return text + "\nEach read or change is recorded in the disclosure log with the Unix user as actor."
    }

    static var config: String { """
    usage: refex config check [--config FILE]

    Checks a config without starting anything: the file against config.v1.schema.json in the
    config's schemas folder (by default \(schemas)), then every file it names (certificates, keys, CRL, recipient CAs, the schemas folder, the
    store's folder) as the daemon would read them, and each recipient's fields and categories
    against the referral schemas (a pointer no referral schema can produce, or a category none
    marks, would never be disclosed; a service given to two recipients is a notice, not an
    error). Every problem is listed, one per line, naming
    the key (e.g. tls.privateKey) and what to do; no secret is ever printed. systemd runs it as
    ExecStartPre, and a SIGHUP reload refuses a config it would refuse.

    OPTIONS
      --config FILE, -c FILE   the config (default /etc/refex/refex.json)

    EXIT STATUS
      0 the config is good; 1 problems (listed on stderr); 2 usage.
    """ }

    static var schema: String { """
    \(SchemaValidateCommand.usage)

    Validates documents as refex will when they are sent (JSON Schema 2020-12, formats asserted),
    so that a partner can check a referral before sending it. Each error names the document's
    location (a JSON Pointer), the keyword that failed and why; values are never printed.
    refex's own schemas are in \(schemas) (referral, consent, override, config): e.g.
      refex schema validate --schema \(schemas)/referral.v1.schema.json --schema-dir \(schemas) referral.json
    """ }

    static var log: String { """
    \(LogCommand.usage)

    The disclosure log on the host: every decision to disclose or withhold, consents, erasures and
    reads, hash-chained (each entry's hash is SHA-256 of its RFC 8785 form) with signed checkpoints.

    SUBCOMMANDS
      list         entries matching the filters, oldest first (50 unless --limit; page with --after SEQ)
      show         one entry in full (by seq or disclosure id) and the referral's other entries
      verify       recomputes the chain and checks every checkpoint signature; exit 0 with the count
                   and the last signed checkpoint, or 1 naming the first entry that fails and why.
                   --public-key FILE (PEM or hex) checks signatures with an auditor's copy of the key;
                   --checkpoint FILE proves nothing up to a kept checkpoint changed.
      checkpoint   the latest signed checkpoint as JSON, for an auditor to keep
      export       every matching entry as JSON lines (default) or CSV (--format csv), for an auditor

    FILTERS
      --subject ID  --referral ID  --recipient ID  --event E (e.g. disclosure.withheld)
      --basis B (consent, vital-interests, legal-obligation, public-task, legitimate-interests)
      --actor A  --since TIME  --until TIME (RFC 3339, e.g. 2026-11-29T08:00:00Z)

    \(hostOptions(json: true))

    EXIT STATUS
      0 done (verify: the log verifies); 1 failed (verify: the log does not verify, or does not
      agree with the store); 2 usage, or a filter naming nothing known; 3 verify found the chain
      intact but checked no signature (give --public-key FILE, or --no-signatures).
    """ }

    static var subject: String { """
    \(SubjectCommand.usage)
    \(SubjectFindCommand.usage)

    A data subject's rights (UK GDPR Articles 15 to 18) from the host, as the admin API offers
    them. ID is refex's subject id (subjectId in a referral's receipt).

    SUBCOMMANDS
      find         finds a subject's id by the partner's reference, the crime reference, or name and
                   date of birth (keyed blind indexes; the values are never logged, only their kinds)
      export       subject access (Art. 15): referrals and consents decrypted, every disclosure and
                   the subject's log entries, as one JSON document on stdout; logged subject.exported
      erase        erasure (Art. 17): the subject's key and every ciphertext are deleted (crypto-
                   shredding); the log keeps its pseudonymous entries; recipients that received data
                   are sent erasure notices. Cannot be undone.
      restrict     restriction (Art. 18): no further disclosure until unrestrict
      unrestrict   lifts it; what consent or an override still covers is released
      rectify      rectification (Art. 16): a JSON Merge Patch (RFC 7396) of the referral's fields,
                   from PATCH-FILE or - (stdin); validated against the referral's schema; recipients
                   that received a changed field get a rectification notice

    \(hostOptions(json: false))

    EXIT STATUS
      0 done (the result as JSON on stdout); 1 refused or failed (why on stderr); 2 usage.
    """ }

    static var consent: String { """
    \(ConsentCommand.usage)

    The consents recorded for a subject or a referral: purposes (services), recipients, method,
    when obtained, expiry and withdrawal. Who obtained it and notes stay sealed and are not shown.

    \(hostOptions(json: true))

    EXIT STATUS
      0 listed (possibly none); 1 the store could not be read; 2 usage.
    """ }

    static var outbox: String { """
    \(OutboxCommand.usage)

    What waits for delivery: disclosures and notices queued for recipients (pending), and those
    that failed (failed: a 4xx answer, or retried until delivery.maxAgeSeconds).

    SUBCOMMANDS
      list    the items, oldest first (--state pending|failed, --limit N, default 1000)
      retry   puts a failed item back in the queue; refused when its subject is restricted or
              erased, or its consent lapsed (the basis is checked again when it is sent)

    \(hostOptions(json: true))

    EXIT STATUS
      0 done; 1 refused or failed; 2 usage.
    """ }

    static var retention: String { """
    \(RetentionCommand.usage)

    The retention purge (retention.referralsDays, consentsDays, logDays in the config): subjects
    crypto-shredded referralsDays after their last referral (recipients notified), consent details
    erased consentsDays after the consent ended, log entries older than logDays removed up to the
    newest signed checkpoint before then. The daemon runs it every retention.runEveryMinutes.

    SUBCOMMANDS
      run      purge what is due now, and print what was done (JSON)
      status   what is due when (JSON); changes nothing

    OPTIONS
      --config FILE, -c FILE   the daemon's config (default /etc/refex/refex.json)

    EXIT STATUS
      0 done; 1 failed; 2 usage.
    """ }

    static let keys = """
    \(KeysCommand.usage)

    SUBCOMMANDS
      generate FILE   writes a new Ed25519 private key (PEM, mode 0600) to FILE, which must not
                      exist, and prints its public key (PEM, hex and key id). The key signs the
                      disclosure log's checkpoints (log.signingKey; under systemd the credential
                      log-signing-key, e.g. /etc/credstore/refex.log-signing-key). Give the public
                      key to auditors: refex log verify --public-key FILE.

    EXIT STATUS
      0 written; 1 FILE exists or cannot be written; 2 usage.
    """

    static let help = """
    usage: refex help [COMMAND]
           refex COMMAND --help

    Without COMMAND, the list of commands; with one, its help. An unknown COMMAND exits 2.
    """

    static var serve: String { """
    usage: refex serve [--config FILE]

    Runs the referral exchange: partners on a mutual-TLS listener, operations (/healthz,
    /readyz, /metrics) on a loopback plain-HTTP listener, delivery to recipients in the
    background. Start-up checks everything first (as `refex config check` does) and exits 1 with
    one line per problem (config, keys, certificates, store, ports) before serving anything.

    OPTIONS
      --config FILE, -c FILE   the config (default /etc/refex/refex.json); relative paths in it
                               are resolved against its folder. Keys are in the README,
                               "Configuration", and in \(prefix)/share/refex/schemas/config.v1.schema.json.

    SIGNALS
      SIGHUP    reload the config, server certificate, client CA, CRL, partners and recipients;
                open connections carry on; a config with any problem is refused (each problem
                logged) and the running one stays. listen, ops, logLevel, limits.*, schemas,
                store.*, masterKey, delivery.*, log.* and retention.* change only on restart: a
                reload that changes any logs one warning naming each (settings=...).
      SIGTERM, SIGINT
                stop accepting, let requests in progress finish (limits.drainTimeoutSeconds,
                15 by default), close the store, exit 0.
      SIGUSR2   only with REFEX_TEST_HOOKS=1 (tests): stalls and resumes the store writer, to show
                that the watchdog stops. Otherwise it is not taken (its default action ends refex).

    ENVIRONMENT (set by systemd)
      NOTIFY_SOCKET        sd_notify: READY=1 (with STATUS= and the bound addresses) once
                           listening, RELOADING=1 and READY=1 around SIGHUP, STOPPING=1 on SIGTERM.
      WATCHDOG_USEC, WATCHDOG_PID
                           WATCHDOG=1 every WATCHDOG_USEC/2, sent only while every event loop and
                           the store writer answer: a stalled refex stops pinging and is restarted.
      LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES
                           socket activation: the socket named api serves partners and the one
                           named ops serves operations (it must be on a loopback address); a
                           single unnamed socket is the partner listener. Whatever is not passed
                           is bound from the config's listen and ops. Each passed descriptor must
                           be a listening TCP socket. The variables are removed once read.
      CREDENTIALS_DIRECTORY
                           credentials (LoadCredential=), each used instead of the config's path
                           when present: master-key (masterKey), tls-key (tls.privateKey),
                           delivery-key (delivery.clientKey), log-signing-key (log.signingKey,
                           the disclosure log's checkpoint signing key).
      REFEX_INTEGRITY_CHECK_SECONDS
                           how long start-up may spend on PRAGMA quick_check (default 20); the
                           rest of the check runs in the background.
      REFEX_STORE_RESERVE_BYTES
                           the disk reserve beside the store, released on a full disk so that
                           erasures still commit (default 8388608; 0: none).
      REFEX_TEST_HOOKS=1   test hooks (see SIGUSR2). Never in production; refex logs a warning.

    FILES
      /etc/refex/refex.json                    the config (root:refex 0640)
      /etc/credstore/refex.master-key          64 hex digits (openssl rand -hex 32); wraps every
                                               subject key. Passed as credential master-key.
      /etc/credstore/refex.tls-key             the server certificate's private key (tls-key)
      /etc/credstore/refex.delivery-key        the delivery client certificate's key (delivery-key)
      /etc/credstore/refex.log-signing-key     the log's checkpoint signing key (log-signing-key;
                                               make it with refex keys generate)
      /etc/credstore/refex.postgres-password   with store.postgres: the database password
                                               (postgres-password; never in refex.json)
      /etc/credstore/refex.postgres-client-key with store.postgres: the key of sslcert
                                               (postgres-client-key, given to libpq as sslkey)
      /etc/refex/tls/                          certificates: server chain, partner CA, CRL,
                                               delivery client certificate, recipient CAs
      /var/lib/refex/refex.db                  the store (SQLite, WAL, with -wal and -shm beside it);
                                               refex.db.reserve is its disk reserve
      /var/lib/refex/refex-keys.db             subject keys (store.keysPath); back it up with the
                                               store: `refex backup DEST`
      \(schemas)/
                                               JSON Schemas (the default of the config's schemas)
      \(prefix)/lib/systemd/system/refex.service, refex.socket (api, port 443), refex-ops.socket
                                               (ops, 127.0.0.1:9090)
      \(prefix)/lib/sysusers.d/refex.conf        the refex system user
      \(prefix)/lib/tmpfiles.d/refex.conf        /etc/refex, /etc/credstore, /var/lib/refex

    LOGGING
      One line per event on stderr with a syslog priority prefix (<2> critical … <7> debug) and
      key=value fields; journald reads the prefix (SyslogLevelPrefix=yes) and tags the lines
      SYSLOG_IDENTIFIER=refex. Start-up failures are <3> lines too (journalctl -p err). When
      stderr is not journald's (JOURNAL_STREAM), each line ends in time=RFC 3339 UTC. Requests
      are logged at info; ops probes and /metrics scrapes that succeed at debug. No personal
      data, body, header value or raw path is ever logged.

    EXIT STATUS
      0 stopped on SIGTERM or SIGINT; 1 could not start (each problem on its own line); 2 usage.
    """ }
}
