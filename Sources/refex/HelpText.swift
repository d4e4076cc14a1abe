/// Long help for `refex help COMMAND`: what a man page would say.
enum HelpText {
    /// The help for `COMMAND`, or nil when there is none beyond the usage line.
    static func text(for command: String) -> String? {
        switch command {
        case "serve": serve
        case "backup": BackupCommand.usage
        case "store": StoreCommand.usage
        case "outbox": OutboxCommand.usage
        case "sink": SinkCommand.usage
        default: nil
        }
    }

    static let serve = """
    refex serve [--config FILE]

    Runs the referral exchange: partners on a mutual-TLS listener, operations (/healthz,
    /readyz, /metrics) on a loopback plain-HTTP listener, delivery to recipients in the
    background. Start-up checks everything first (as `refex config check` does) and exits 1 with
    one line per problem (config, keys, certificates, store, ports) before serving anything.

    OPTIONS
      --config FILE, -c FILE   the config (default /etc/refex/refex.json); relative paths in it
                               are resolved against its folder. Keys are in the README,
                               "Configuration", and in $PREFIX/share/refex/schemas/config.v1.schema.json.

    SIGNALS
      SIGHUP    reload the config, server certificate, client CA, CRL, partners and recipients;
                open connections carry on; a config with any problem is refused (each problem
                logged) and the running one stays. Listen addresses, limits, the store, the
                master key, schemas and delivery settings change only on restart.
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
      /etc/refex/tls/                          certificates: server chain, partner CA, CRL,
                                               delivery client certificate, recipient CAs
      /var/lib/refex/refex.db                  the store (SQLite, WAL, with -wal and -shm beside it);
                                               refex.db.reserve is its disk reserve
      /var/lib/refex/refex-keys.db             subject keys (store.keysPath); back it up with the
                                               store: `refex backup DEST`
      $PREFIX/share/refex/schemas/             JSON Schemas (the config's schemas)
      $PREFIX/lib/systemd/system/refex.service, refex.socket (api, port 443), refex-ops.socket
                                               (ops, 127.0.0.1:9090)
      $PREFIX/lib/sysusers.d/refex.conf        the refex system user
      $PREFIX/lib/tmpfiles.d/refex.conf        /etc/refex, /etc/credstore, /var/lib/refex

    LOGGING
      One line per event on stderr with a syslog priority prefix (<2> critical … <7> debug) and
      key=value fields; journald reads the prefix (SyslogLevelPrefix=yes) and tags the lines
      SYSLOG_IDENTIFIER=refex. No personal data, body, header value or raw path is ever logged.

    EXIT STATUS
      0 stopped on SIGTERM or SIGINT; 1 could not start (each problem on its own line); 2 usage.
    """
}
