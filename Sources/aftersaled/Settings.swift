import AfterSaleDomain
import AfterSalePostgres
import AfterSaleServices
import RPCServer
import RPCTransport
import ServiceKit
import SignedTokens
import StoreBackends

/// Every setting of aftersaled, declared once: its flag, environment variable, default and help.
/// `aftersaled --help` prints them; the README's configuration table lists the same flags (a test
/// compares them).
enum Settings {
    static let listen = Setting("--listen", env: "AFTERSALE_LISTEN", default: "127.0.0.1:7400", value: "HOST:PORT",
                                help: "where to serve RPC (port 0: any free port)")
    static let tlsCert = Setting("--tls-cert", env: "AFTERSALE_TLS_CERT", default: nil, value: "FILE",
                                 help: "serve RPC over TLS 1.3 with this PEM certificate chain, with --tls-key (default: plain TCP); "
                                     + "read at start: rotate by restarting")
    static let tlsKey = Setting("--tls-key", env: "AFTERSALE_TLS_KEY", default: nil, value: "FILE",
                                help: "the unencrypted PEM private key of --tls-cert")
    static let tlsClientCA = Setting("--tls-client-ca", env: "AFTERSALE_TLS_CLIENT_CA", default: nil, value: "FILE",
                                     help: "mutual TLS: every client must present a certificate issued by a CA in this PEM file; "
                                         + "its URI SAN (e.g. spiffe://platform/payments) is the calling workload")
    static let dataDir = Setting("--data-dir", env: "AFTERSALE_DATA_DIR", default: "./data", value: "PATH",
                                 help: "where the SQLite store lives (unused with --database), and the development token keys")
    static let database = Setting("--database", env: "AFTERSALE_DATABASE", default: nil, value: "URL",
                                  help: "PostgreSQL for several replicas: postgresql://USER:PASSWORD@HOST:PORT/DB?... "
                                      + "(libpq's PG* variables fill in the rest; default: SQLite in --data-dir)",
                                  redaction: .urlPassword)
    static let databasePoolSize = Setting("--database-pool-size", env: "AFTERSALE_DATABASE_POOL_SIZE", default: "8", value: "N",
                                          help: "PostgreSQL connections per replica")
    static let databaseConnectTimeout = Setting("--database-connect-timeout", env: "AFTERSALE_DATABASE_CONNECT_TIMEOUT",
                                                default: "5", value: "SECONDS", help: "how long one connection attempt may take")
    static let databaseStatementTimeout = Setting("--database-statement-timeout-ms", env: "AFTERSALE_DATABASE_STATEMENT_TIMEOUT_MS",
                                                  default: "10000", value: "MS",
                                                  help: "PostgreSQL statement_timeout of every connection")
    static let databaseLockTimeout = Setting("--database-lock-timeout-ms", env: "AFTERSALE_DATABASE_LOCK_TIMEOUT_MS",
                                             default: "5000", value: "MS",
                                             help: "PostgreSQL lock_timeout: a longer wait for a row lock fails UNAVAILABLE")
    static let databaseIdleInTransactionTimeout = Setting(
        "--database-idle-in-transaction-timeout-ms", env: "AFTERSALE_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS", default: "30000",
        value: "MS", help: "PostgreSQL idle_in_transaction_session_timeout")
    static let metricsListen = Setting("--metrics-listen", env: "AFTERSALE_METRICS_LISTEN", default: nil, value: "HOST:PORT",
                                       help: "serve Prometheus metrics at GET /metrics (default off)")
    static let logLevel = Setting("--log-level", env: "AFTERSALE_LOG_LEVEL", default: "info", value: "LEVEL",
                                  help: "debug, info, warning, error or off")
    static let callLogLevel = Setting("--call-log-level", env: "AFTERSALE_CALL_LOG_LEVEL", default: "debug", value: "LEVEL",
                                      help: "level of the one-line-per-call log")
    static let maxFrameBytes = Setting("--max-frame-bytes", env: "AFTERSALE_MAX_FRAME_BYTES", default: "4194304", value: "N",
                                       help: "largest frame accepted; larger: GOAWAY RESOURCE_EXHAUSTED")
    static let maxMetadataBytes = Setting("--max-metadata-bytes", env: "AFTERSALE_MAX_METADATA_BYTES", default: "8192", value: "N",
                                          help: "largest call metadata; larger: RESOURCE_EXHAUSTED")
    static let maxCallsPerConnection = Setting("--max-calls-per-connection", env: "AFTERSALE_MAX_CALLS_PER_CONNECTION",
                                               default: "1024", value: "N",
                                               help: "calls in flight per connection; more: RESOURCE_EXHAUSTED")
    static let maxConnections = Setting("--max-connections", env: "AFTERSALE_MAX_CONNECTIONS", default: "10000", value: "N",
                                        help: "open connections; more: GOAWAY RESOURCE_EXHAUSTED")
    static let idleTimeout = Setting("--idle-timeout", env: "AFTERSALE_IDLE_TIMEOUT", default: "300", value: "SECONDS",
                                     help: "idle connections are closed")
    static let incompleteFrameTimeout = Setting("--incomplete-frame-timeout", env: "AFTERSALE_INCOMPLETE_FRAME_TIMEOUT",
                                                default: "30", value: "SECONDS",
                                                help: "a frame left unfinished this long closes the connection")
    static let shutdownGrace = Setting("--shutdown-grace", env: "AFTERSALE_SHUTDOWN_GRACE", default: "10", value: "SECONDS",
                                       help: "time in-flight calls get on SIGTERM/SIGINT")
    static let eventLoops = Setting("--event-loops", env: "AFTERSALE_EVENT_LOOPS", default: nil, value: "N",
                                    help: "I/O threads (default: one per core)")
    static let outboundHighWater = Setting("--outbound-high-water-bytes", env: "AFTERSALE_OUTBOUND_HIGH_WATER_BYTES",
                                           default: "4194304", value: "N",
                                           help: "stop reading a connection whose unsent responses exceed this")
    static let outboundLowWater = Setting("--outbound-low-water-bytes", env: "AFTERSALE_OUTBOUND_LOW_WATER_BYTES",
                                          default: "1048576", value: "N", help: "resume reading once they are below this")
    static let refundMaxAttempts = Setting("--refund-max-attempts", env: "AFTERSALE_REFUND_MAX_ATTEMPTS", default: "5", value: "N",
                                           help: "payment attempts before a refund needs an agent")
    static let refundInitialBackoff = Setting("--refund-initial-backoff-ms", env: "AFTERSALE_REFUND_INITIAL_BACKOFF_MS",
                                              default: "5000", value: "MS",
                                              help: "wait after a refund's first failed attempt; doubles per failure")
    static let refundMaxBackoff = Setting("--refund-max-backoff-ms", env: "AFTERSALE_REFUND_MAX_BACKOFF_MS", default: "600000",
                                          value: "MS", help: "longest wait between refund attempts")
    static let refundDefaultLease = Setting("--refund-default-lease-ms", env: "AFTERSALE_REFUND_DEFAULT_LEASE_MS",
                                            default: "30000", value: "MS",
                                            help: "lease of a claimed refund when the worker asks for none")
    static let refundMaxLease = Setting("--refund-max-lease-ms", env: "AFTERSALE_REFUND_MAX_LEASE_MS", default: "600000",
                                        value: "MS", help: "longest lease a payment worker may ask for")
    static let trackingAdvanceReturns = Setting("--tracking-advance-returns", env: "AFTERSALE_TRACKING_ADVANCE_RETURNS",
                                                default: "true", value: "BOOL",
                                                help: "whether a return reported delivered moves its case to awaiting receipt")
    static let timerMerchantReview = Setting("--timer-merchant-review", env: "AFTERSALE_TIMER_MERCHANT_REVIEW", default: "48h",
                                             value: "DURATION", help: "merchant silent on an application: approved automatically after this")
    static let timerReturnShipment = Setting("--timer-return-shipment", env: "AFTERSALE_TIMER_RETURN_SHIPMENT", default: "7d",
                                             value: "DURATION", help: "buyer never ships an approved return: the case closes after this")
    static let timerReceiptConfirmation = Setting("--timer-receipt-confirmation", env: "AFTERSALE_TIMER_RECEIPT_CONFIRMATION",
                                                  default: "10d", value: "DURATION",
                                                  help: "merchant never confirms a return's receipt: confirmed and refunded after this")
    static let timerReplacementConfirmation = Setting("--timer-replacement-confirmation",
                                                      env: "AFTERSALE_TIMER_REPLACEMENT_CONFIRMATION", default: "7d", value: "DURATION",
                                                      help: "buyer never confirms replacement or repaired goods: completes after this")
    static let timerReminderLead = Setting("--timer-reminder-lead", env: "AFTERSALE_TIMER_REMINDER_LEAD", default: "12h",
                                           value: "DURATION", help: "reminder event this long before a timer acts (at most half the wait; 0ms: none)")
    static let timerPollInterval = Setting("--timer-poll-interval", env: "AFTERSALE_TIMER_POLL_INTERVAL", default: "200ms",
                                           value: "DURATION", help: "how often each replica looks for due timers")
    static let timerRate = Setting("--timer-max-per-second", env: "AFTERSALE_TIMER_MAX_PER_SECOND", default: "1000", value: "N",
                                   help: "backlog timers (see --timer-backlog-after) handled per second per replica")
    static let timerBacklogAfter = Setting("--timer-backlog-after", env: "AFTERSALE_TIMER_BACKLOG_AFTER", default: "5s",
                                           value: "DURATION", help: "how overdue a timer must be to count as backlog (after downtime)")

    static let tokenKeys = Setting("--token-keys", env: "AFTERSALE_TOKEN_KEYS", default: nil, value: "FILE",
                                   help: "the key-set file of the keys that sign caller tokens, reloaded on SIGHUP "
                                       + "(default: the development key set in --data-dir/dev-keys, made on first start)")
    static let tokenAudience = Setting("--token-audience", env: "AFTERSALE_TOKEN_AUDIENCE", default: "aftersale", value: "NAME",
                                       help: "this service's name in tokens: their implicit assertion and aud")
    static let tokenClockSkew = Setting("--token-clock-skew", env: "AFTERSALE_TOKEN_CLOCK_SKEW", default: "30", value: "SECONDS",
                                        help: "leeway for clocks that disagree on token and key times")
    static let insecureDevPrincipals = Setting(switch: "--insecure-dev-principals", env: "AFTERSALE_INSECURE_DEV_PRINCIPALS",
                                               help: "also accept x-caller-role/x-caller-id as stated, unverified: development only")

    static let rateLimitPrincipal = Setting("--rate-limit-principal", env: "AFTERSALE_RATE_LIMIT_PRINCIPAL", default: "0",
                                            value: "RATE[:BURST]",
                                            help: "business calls per second per caller (role and id), bursts of BURST "
                                                + "(default twice RATE); more: RESOURCE_EXHAUSTED with retry-after-ms; 0: off")
    static let rateLimitAddress = Setting("--rate-limit-address", env: "AFTERSALE_RATE_LIMIT_ADDRESS", default: "0",
                                          value: "RATE[:BURST]",
                                          help: "business calls per second per source address, bursts of BURST (default twice RATE); 0: off")
    static let authFailureLimit = Setting("--auth-failure-limit", env: "AFTERSALE_AUTH_FAILURE_LIMIT", default: "20:5",
                                          value: "BURST[:SECONDS]",
                                          help: "failed authentications an address may make at once, then one per SECONDS (default 5); "
                                              + "beyond, all its business calls get RESOURCE_EXHAUSTED; 0: off")
    static let deskSLAFile = Setting("--desk-sla-file", env: "AFTERSALE_DESK_SLA_FILE", default: nil, value: "FILE",
                                     help: "SLA targets per priority and the business calendar, as JSON (default: office hours, see OPERATIONS.md)")
    static let deskReopenWindow = Setting("--desk-reopen-window", env: "AFTERSALE_DESK_REOPEN_WINDOW", default: "7d", value: "DURATION",
                                          help: "a customer reply this long after a ticket was solved reopens it; then it closes")
    static let deskOptionalSkillWait = Setting("--desk-optional-skill-wait", env: "AFTERSALE_DESK_OPTIONAL_SKILL_WAIT", default: "10m",
                                               value: "DURATION", help: "optional skills stop counting after a ticket waited this long")
    static let deskHeartbeatTimeout = Setting("--desk-heartbeat-timeout", env: "AFTERSALE_DESK_HEARTBEAT_TIMEOUT", default: "90s",
                                              value: "DURATION", help: "an agent without a heartbeat this long goes offline")
    static let deskOfflineGrace = Setting("--desk-offline-grace", env: "AFTERSALE_DESK_OFFLINE_GRACE", default: "5m", value: "DURATION",
                                          help: "the tickets of an agent offline this long go back to the queue")
    static let deskSelfOperatedShops = Setting("--desk-self-operated-shops", env: "AFTERSALE_DESK_SELF_OPERATED_SHOPS", default: nil,
                                               value: "IDS", help: "comma-separated shops whose new cases open a ticket for platform agents")
    static let deskEscalateTimers = Setting("--desk-escalate-timers", env: "AFTERSALE_DESK_ESCALATE_TIMERS", default: nil, value: "RULES",
                                            help: "comma-separated timer rules whose reminder opens a ticket (e.g. merchant_review)")
    static let feedbackWindow = Setting("--feedback-window", env: "AFTERSALE_FEEDBACK_WINDOW", default: "15d", value: "DURATION",
                                        help: "how long after a case completes or a ticket is solved its buyer may rate it (and edit once)")
    static let disputeEscalationWindow = Setting("--dispute-escalation-window", env: "AFTERSALE_DISPUTE_ESCALATION_WINDOW", default: "7d",
                                                 value: "DURATION", help: "how long after a rejection its buyer may escalate it to the platform (then the rejection is final)")
    static let disputeMerchantResponse = Setting("--dispute-merchant-response", env: "AFTERSALE_DISPUTE_MERCHANT_RESPONSE", default: "2d",
                                                 value: "DURATION", help: "how long the merchant has to respond to a dispute before it goes to review")
    static let disputeEvidenceWindow = Setting("--dispute-evidence-window", env: "AFTERSALE_DISPUTE_EVIDENCE_WINDOW", default: "3d",
                                               value: "DURATION", help: "the default deadline of an evidence request (at most 30d)")
    static let disputeAppealWindow = Setting("--dispute-appeal-window", env: "AFTERSALE_DISPUTE_APPEAL_WINDOW", default: "3d",
                                             value: "DURATION", help: "how long after a ruling against them the merchant may appeal (once)")
    static let disputeGuaranteePeriod = Setting("--dispute-guarantee-period", env: "AFTERSALE_DISPUTE_GUARANTEE_PERIOD", default: "90d",
                                                value: "DURATION", help: "how long after a completed exchange or repair its buyer may make a quality or counterfeit claim")
    static let disputeSweepInterval = Setting("--dispute-sweep-interval", env: "AFTERSALE_DISPUTE_SWEEP_INTERVAL", default: "1s",
                                              value: "DURATION", help: "how often each replica applies the dispute deadlines that passed")
    static let abuseWindow = Setting("--abuse-window", env: "AFTERSALE_ABUSE_WINDOW", default: "30d", value: "DURATION",
                                     help: "how far back a buyer's refund-only cases and disputes count for abuse control")
    static let abuseRefundOnlyCases = Setting("--abuse-refund-only-cases", env: "AFTERSALE_ABUSE_REFUND_ONLY_CASES", default: "20", value: "N",
                                              help: "the most refund-only cases a buyer may open in the window and still be approved at once (0: no limit)")
    static let abuseRefundOnlyAmount = Setting("--abuse-refund-only-amount", env: "AFTERSALE_ABUSE_REFUND_ONLY_AMOUNT", default: "2000000",
                                               value: "MINOR_UNITS",
                                               help: "the most refund-only money (minor units) a buyer may ask for in the window and still be approved at once (0: no limit)")
    static let abuseDisputeLossPercent = Setting("--abuse-dispute-loss-percent", env: "AFTERSALE_ABUSE_DISPUTE_LOSS_PERCENT", default: "50",
                                                 value: "PERCENT",
                                                 help: "beyond this share of lost disputes (of at least --abuse-min-disputes decided) refund-only cases wait for review (100: no limit)")
    static let abuseMinDisputes = Setting("--abuse-min-disputes", env: "AFTERSALE_ABUSE_MIN_DISPUTES", default: "3", value: "N",
                                          help: "decided disputes needed before the share of lost ones counts")
    static let deskIntake = Setting("--desk-intake", env: "AFTERSALE_DESK_INTAKE", default: "true", value: "BOOL",
                                    help: "whether this replica opens tickets from the event feed (refunds needing attention, ...)")
    static let deskSweepInterval = Setting("--desk-sweep-interval", env: "AFTERSALE_DESK_SWEEP_INTERVAL", default: "1s", value: "DURATION",
                                           help: "how often each replica dispatches, announces SLAs and checks presence")

    static let masterKeyFile = Setting("--master-key-file", env: "AFTERSALE_MASTER_KEY_FILE", default: nil, value: "FILE",
                                       help: "the master key (64 hex digits) that wraps buyers' data keys; every replica reads the same "
                                           + "(default: --data-dir/master.key, made on first start)")
    static let personalDataRetention = Setting("--personal-data-retention", env: "AFTERSALE_PERSONAL_DATA_RETENTION", default: "180d",
                                               value: "DURATION",
                                               help: "ErasePersonalData waits until a buyer's last case finished this long ago")

    static let auditKey = Setting("--audit-key", env: "AFTERSALE_AUDIT_KEY", default: nil, value: "FILE",
                                  help: "the Ed25519 private key (PKCS#8 PEM) that signs audit checkpoints "
                                      + "(default: a development key in --data-dir/dev-keys, made on first start)")
    static let auditOrigin = Setting("--audit-origin", env: "AFTERSALE_AUDIT_ORIGIN", default: "aftersale.local/audit", value: "NAME",
                                     help: "the audit log's name in its checkpoints, also the checkpoint key's name")
    static let auditCheckpointInterval = Setting("--audit-checkpoint-interval", env: "AFTERSALE_AUDIT_CHECKPOINT_INTERVAL",
                                                 default: "60s", value: "DURATION",
                                                 help: "sign a checkpoint at least this often while the audit chain grows")
    static let auditCheckpointEvery = Setting("--audit-checkpoint-every", env: "AFTERSALE_AUDIT_CHECKPOINT_EVERY", default: "10000",
                                              value: "N", help: "sign a checkpoint once the audit chain grew by N records")

    static let table = SettingsTable(program: "aftersaled", settings: [
        listen, tlsCert, tlsKey, tlsClientCA, dataDir, tokenKeys, tokenAudience, tokenClockSkew, insecureDevPrincipals,
        rateLimitPrincipal, rateLimitAddress, authFailureLimit,
        database, databasePoolSize, databaseConnectTimeout, databaseStatementTimeout, databaseLockTimeout, databaseIdleInTransactionTimeout,
        metricsListen, logLevel, callLogLevel, maxFrameBytes, maxMetadataBytes, maxCallsPerConnection,
        maxConnections, idleTimeout, incompleteFrameTimeout, shutdownGrace, eventLoops, outboundHighWater, outboundLowWater,
        refundMaxAttempts, refundInitialBackoff, refundMaxBackoff, refundDefaultLease, refundMaxLease, trackingAdvanceReturns,
        timerMerchantReview, timerReturnShipment, timerReceiptConfirmation, timerReplacementConfirmation, timerReminderLead,
        timerPollInterval, timerRate, timerBacklogAfter,
        deskSLAFile, deskReopenWindow, deskOptionalSkillWait, deskHeartbeatTimeout, deskOfflineGrace, deskSelfOperatedShops,
        deskEscalateTimers, deskIntake, deskSweepInterval, feedbackWindow,
        disputeEscalationWindow, disputeMerchantResponse, disputeEvidenceWindow, disputeAppealWindow, disputeGuaranteePeriod, disputeSweepInterval,
        abuseWindow, abuseRefundOnlyCases, abuseRefundOnlyAmount, abuseDisputeLossPercent, abuseMinDisputes,
        auditKey, auditOrigin, auditCheckpointInterval, auditCheckpointEvery, masterKeyFile, personalDataRetention,
    ])
}

/// How callers are authenticated.
struct AuthenticationSettings {
    /// The key-set file; nil: the development key set in ``developmentKeyDirectory``.
    var keySetPath: String?
    /// Where the development key pair lives (made on first start) when no key-set file is given.
    var developmentKeyDirectory = "./data/dev-keys"
    /// This service's name: the tokens' implicit assertion and `aud`.
    var audience = "aftersale"
    /// Seconds of leeway on token and key times.
    var clockSkew: Double = 30
    /// Whether `x-caller-role` / `x-caller-id` are accepted as stated.
    var acceptStatedIdentity = false
}

/// How audit checkpoints are signed.
struct AuditSettings {
    /// The private key file; nil: the development key in ``developmentKeyDirectory``.
    var keyPath: String?
    /// Where the development checkpoint key lives (made on first start) when no key file is given.
    var developmentKeyDirectory = "./data/dev-keys"
    /// The log's name: the checkpoints' origin and the key's name.
    var origin = "aftersale.local/audit"
    /// When the checkpoint writer signs.
    var checkpoints = AuditCheckpointSettings()
}

/// Buyers' personal data at rest: the master key file and the retention period.
struct PersonalDataSettings {
    /// The master key file (made on first start when it is the default one).
    var keyPath = "./data/master.key"
    /// Whether ``keyPath`` is the data directory's default (then it is made when missing).
    var keyPathIsDefault = true
    /// How long after a buyer's last case finished their data may be erased.
    var retention: Duration = PersonalDataVault.defaultRetention

    /// The default key file of `dataDirectory`.
    static func defaultKeyPath(inDataDirectory dataDirectory: String) -> String {
        (dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory) + "/master.key"
    }

    /// The master key: read from ``keyPath``; the default file is made when missing, a given one must exist.
    func masterKey() throws(KeyFileError) -> MasterKey {
        keyPathIsDefault ? try MasterKey.loadOrCreate(file: keyPath) : try MasterKey.read(file: keyPath)
    }
}

/// What aftersaled runs with, read from the settings and checked.
struct Configuration {
    var server = ServerConfiguration()
    /// SQLite under `--data-dir`, or PostgreSQL when `--database` is given.
    var store = StoreBackend.sqlite(dataDirectory: "./data")
    var metricsListen: SocketAddress?
    var policy = PolicyConfig.standard
    /// How the timer worker paces itself.
    var timerWorker = TimerWorkerSettings()
    /// How the service desk runs.
    var desk = DeskSettings()
    /// How long after the end a case or ticket may be rated.
    var feedbackWindowMs: Int64 = 15 * 86_400_000
    /// The windows of disputes.
    var disputes = DisputePolicy()
    /// The limits of refund-only auto-approval.
    var abuse = AbuseLimits()
    /// How often each replica applies dispute deadlines.
    var disputeSweepIntervalMs: Int64 = 1_000
    var authentication = AuthenticationSettings()
    var audit = AuditSettings()
    /// Where the master key is and how long personal data is kept.
    var personalData = PersonalDataSettings()
    var limits = CallLimits()
    /// The settings given, redacted, for the start-up log.
    var summary: [(flag: String, value: String)] = []

    /// Reads `arguments` and `environment` through the settings table.
    /// - Throws: ``SettingsError/help(_:)`` for `--help`; ``SettingsError/invalid(_:)`` naming the flag.
    static func read(_ arguments: [String], environment: [String: String]) throws(SettingsError) -> Configuration {
        let values = try Settings.table.parse(arguments, environment: environment)
        var c = Configuration()
        c.summary = values.redactedSummary
        do {
            if let v = values.string(Settings.listen) { c.server.listen = try SocketAddress(parsing: v) }
            if let v = values.string(Settings.metricsListen) { c.metricsListen = try SocketAddress(parsing: v) }
        } catch {
            throw .invalid(error.description)
        }
        c.store = try store(values)
        c.server.tls = try tls(values)
        let s = Settings.self
        c.authentication.keySetPath = values.string(s.tokenKeys)
        c.authentication.developmentKeyDirectory = DevelopmentKeys.directory(inDataDirectory: values.string(s.dataDir) ?? "./data")
        if let v = values.string(s.tokenAudience) {
            guard !v.isEmpty, v.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
                throw .invalid("--token-audience: '\(v)' must be a non-empty name without spaces or control characters")
            }
            c.authentication.audience = v
        }
        if let v = try values.int(s.tokenClockSkew, in: 0...3_600) { c.authentication.clockSkew = Double(v) }
        if let v = try values.bool(s.insecureDevPrincipals) { c.authentication.acceptStatedIdentity = v }
        c.limits.perPrincipal = try callRate(values, s.rateLimitPrincipal)
        c.limits.perAddress = try callRate(values, s.rateLimitAddress)
        c.limits.authenticationFailures = try failureRate(values, s.authFailureLimit)
        if let v = values.string(Settings.logLevel) { c.server.logLevel = try level(v, Settings.logLevel) }
        if let v = values.string(Settings.callLogLevel) { c.server.callLogLevel = try level(v, Settings.callLogLevel) }
        if let v = try values.int(s.maxFrameBytes, in: 64...Int.max) { c.server.wire.maxFrameBytes = v }
        if let v = try values.int(s.maxMetadataBytes, in: 0...Int.max) { c.server.wire.maxMetadataBytes = v }
        if let v = try values.int(s.maxCallsPerConnection, in: 1...Int.max) { c.server.maxCallsPerConnection = v }
        if let v = try values.int(s.maxConnections, in: 1...Int.max) { c.server.maxConnections = v }
        if let v = try values.int(s.idleTimeout, in: 1...Int.max) { c.server.idleTimeout = .seconds(v) }
        if let v = try values.int(s.incompleteFrameTimeout, in: 1...Int.max) { c.server.incompleteFrameTimeout = .seconds(v) }
        if let v = try values.int(s.shutdownGrace, in: 0...Int.max) { c.server.shutdownGrace = .seconds(v) }
        if let v = try values.int(s.eventLoops, in: 1...Int.max) { c.server.eventLoops = v }
        if let v = try values.int(s.outboundHighWater, in: 1024...Int.max) { c.server.backpressure.highWaterBytes = v }
        if let v = try values.int(s.outboundLowWater, in: 0...Int.max) { c.server.backpressure.lowWaterBytes = v }
        if let v = try values.int(s.refundMaxAttempts, in: 1...Int.max) { c.policy.refunds.maxAttempts = v }
        if let v = try values.int(s.refundInitialBackoff, in: 1...Int.max) { c.policy.refunds.initialBackoffMs = Int64(v) }
        if let v = try values.int(s.refundMaxBackoff, in: 1...Int.max) { c.policy.refunds.maximumBackoffMs = Int64(v) }
        if let v = try values.int(s.refundDefaultLease, in: 1...Int.max) { c.policy.refunds.defaultLeaseMs = Int64(v) }
        if let v = try values.int(s.refundMaxLease, in: 1...Int.max) { c.policy.refunds.maximumLeaseMs = Int64(v) }
        if let v = try values.bool(s.trackingAdvanceReturns) { c.policy.tracking.advanceReturnOnDelivery = v }
        try timers(values, into: &c)
        try desk(values, into: &c)
        try audit(values, into: &c)
        if c.policy.refunds.maximumBackoffMs < c.policy.refunds.initialBackoffMs {
            throw .invalid("--refund-max-backoff-ms must not be below --refund-initial-backoff-ms")
        }
        if c.policy.refunds.maximumLeaseMs < c.policy.refunds.minimumLeaseMs {
            throw .invalid("--refund-max-lease-ms must be at least \(c.policy.refunds.minimumLeaseMs)")
        }
        if c.server.backpressure.lowWaterBytes > c.server.backpressure.highWaterBytes {
            throw .invalid("--outbound-low-water-bytes must not exceed --outbound-high-water-bytes")
        }
        return c
    }

    private static func timers(_ values: SettingValues, into c: inout Configuration) throws(SettingsError) {
        let s = Settings.self
        var durations: [TimerRule: Int64] = [:]
        for (setting, rule) in [(s.timerMerchantReview, TimerRule.merchantReview), (s.timerReturnShipment, .returnShipment),
                                (s.timerReceiptConfirmation, .receiptConfirmation),
                                (s.timerReplacementConfirmation, .replacementConfirmation)] {
            guard let duration = try values.duration(setting) else { continue }
            let ms = milliseconds(duration)
            guard (1...TimerOverride.maximumDurationMs).contains(ms) else {
                throw .invalid("\(setting.flag) must be between 1ms and 366d")
            }
            durations[rule] = ms
        }
        c.policy.timers = TimerPolicy(durations: durations,
                                      reminderLeadMs: try values.duration(s.timerReminderLead).map(milliseconds) ?? 12 * 3_600_000)
        if let v = try values.duration(s.timerPollInterval) {
            guard v >= .milliseconds(10), v <= .seconds(60) else { throw .invalid("--timer-poll-interval must be between 10ms and 60s") }
            c.timerWorker.pollInterval = v
        }
        if let v = try values.int(s.timerRate, in: 1...100_000) { c.timerWorker.maximumPerSecond = v }
        if let v = try values.duration(s.timerBacklogAfter) { c.timerWorker.backlogAfterMs = milliseconds(v) }
    }

    private static func desk(_ values: SettingValues, into c: inout Configuration) throws(SettingsError) {
        let s = Settings.self
        if let v = try values.duration(s.deskReopenWindow) { c.desk.reopenWindowMs = milliseconds(v) }
        if let v = try values.duration(s.deskOptionalSkillWait) { c.desk.optionalSkillWaitMs = milliseconds(v) }
        if let v = try values.duration(s.deskHeartbeatTimeout) { c.desk.heartbeatTimeoutMs = max(1_000, milliseconds(v)) }
        if let v = try values.duration(s.deskOfflineGrace) { c.desk.offlineGraceMs = milliseconds(v) }
        if let v = try values.duration(s.deskSweepInterval) {
            guard v >= .milliseconds(50), v <= .seconds(60) else { throw .invalid("--desk-sweep-interval must be between 50ms and 60s") }
            c.desk.sweepIntervalMs = milliseconds(v)
        }
        if let v = try values.bool(s.deskIntake) { c.desk.intake = v }
        if let v = try values.duration(s.feedbackWindow) { c.feedbackWindowMs = milliseconds(v) }
        if let v = try values.duration(s.disputeEscalationWindow) { c.disputes.escalationWindowMs = milliseconds(v) }
        if let v = try values.duration(s.disputeMerchantResponse) { c.disputes.merchantResponseMs = milliseconds(v) }
        if let v = try values.duration(s.disputeEvidenceWindow) { c.disputes.evidenceMs = min(milliseconds(v), Dispute.maximumEvidenceMs) }
        if let v = try values.duration(s.disputeAppealWindow) { c.disputes.appealWindowMs = milliseconds(v) }
        if let v = try values.duration(s.disputeGuaranteePeriod) { c.disputes.guaranteePeriodMs = milliseconds(v) }
        if let v = try values.duration(s.disputeSweepInterval) { c.disputeSweepIntervalMs = max(10, milliseconds(v)) }
        if let v = try values.duration(s.abuseWindow) { c.abuse.windowMs = milliseconds(v) }
        if let v = try values.int(s.abuseRefundOnlyCases, in: 0...1_000_000) { c.abuse.maximumRefundOnlyCases = v }
        if let v = try values.int(s.abuseRefundOnlyAmount, in: 0...Int(Int64.max / 4)) { c.abuse.maximumRefundOnlyMinorUnits = Int64(v) }
        if let v = try values.int(s.abuseDisputeLossPercent, in: 0...100) { c.abuse.maximumDisputeLossPercent = v }
        if let v = try values.int(s.abuseMinDisputes, in: 1...1_000_000) { c.abuse.minimumDecidedDisputes = v }
        c.personalData.keyPath = values.string(s.masterKeyFile)
            ?? PersonalDataSettings.defaultKeyPath(inDataDirectory: values.string(s.dataDir) ?? "./data")
        c.personalData.keyPathIsDefault = values.string(s.masterKeyFile) == nil
        if let v = try values.duration(s.personalDataRetention) { c.personalData.retention = v }
        if let v = values.string(s.deskSelfOperatedShops) {
            c.desk.selfOperatedShops = Set(v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        if let v = values.string(s.deskEscalateTimers) {
            var rules: Set<TimerRule> = []
            for name in v.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
                guard let rule = TimerRule(rawValue: name) else {
                    throw .invalid("--desk-escalate-timers: '\(name)' is not one of \(TimerRule.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                rules.insert(rule)
            }
            c.desk.escalatedTimerRules = rules
        }
        if let path = values.string(s.deskSLAFile) {
            do {
                c.desk.sla = try SLAFile.read(path)
            } catch let error as SLAFile.Invalid {
                throw .invalid("--desk-sla-file \(path): \(error.message)")
            } catch {
                throw .invalid("--desk-sla-file \(path): \(error)")
            }
        }
    }

    /// The listener's TLS: both of --tls-cert and --tls-key or neither; --tls-client-ca only with them.
    private static func tls(_ values: SettingValues) throws(SettingsError) -> TLSContext? {
        let s = Settings.self
        let clientCA = values.string(s.tlsClientCA)
        switch (values.string(s.tlsCert), values.string(s.tlsKey)) {
        case (nil, nil):
            if clientCA != nil { throw .invalid("--tls-client-ca needs --tls-cert and --tls-key: mutual TLS is TLS") }
            return nil
        case let (certificate?, key?):
            do {
                return try TLSContext.server(certificateFile: certificate, keyFile: key, clientCAFile: clientCA)
            } catch {
                throw .invalid("--tls-cert/--tls-key/--tls-client-ca: \(error.message)")
            }
        default:
            throw .invalid("--tls-cert and --tls-key go together: give both or neither")
        }
    }

    private static func audit(_ values: SettingValues, into c: inout Configuration) throws(SettingsError) {
        let s = Settings.self
        c.audit.keyPath = values.string(s.auditKey)
        c.audit.developmentKeyDirectory = DevelopmentKeys.directory(inDataDirectory: values.string(s.dataDir) ?? "./data")
        if let v = values.string(s.auditOrigin) {
            guard !v.isEmpty, !v.contains("+"), v.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
                throw .invalid("--audit-origin: '\(v)' must be a non-empty name without spaces, '+' or control characters")
            }
            c.audit.origin = v
        }
        if let v = try values.duration(s.auditCheckpointInterval) {
            guard v >= .seconds(1), v <= .seconds(86_400) else { throw .invalid("--audit-checkpoint-interval must be between 1s and 24h") }
            c.audit.checkpoints.interval = v
        }
        if let v = try values.int(s.auditCheckpointEvery, in: 1...100_000_000) { c.audit.checkpoints.everyRecords = Int64(v) }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    private static func store(_ values: SettingValues) throws(SettingsError) -> StoreBackend {
        let s = Settings.self
        guard let url = values.string(s.database) else {
            return .sqlite(dataDirectory: values.string(s.dataDir) ?? "./data")
        }
        var configuration = PostgresConfiguration(url, applicationName: "aftersaled")
        if let v = try values.int(s.databaseConnectTimeout, in: 1...3_600) { configuration.connectTimeoutSeconds = v }
        if let v = try values.int(s.databaseStatementTimeout, in: 0...Int(Int32.max)) { configuration.statementTimeoutMilliseconds = v }
        if let v = try values.int(s.databaseLockTimeout, in: 0...Int(Int32.max)) { configuration.lockTimeoutMilliseconds = v }
        if let v = try values.int(s.databaseIdleInTransactionTimeout, in: 0...Int(Int32.max)) {
            configuration.idleInTransactionTimeoutMilliseconds = v
        }
        var options = PostgresRepository.Options()
        if let v = try values.int(s.databasePoolSize, in: 1...1_000) { options.poolSize = v }
        return .postgres(configuration, options)
    }

    /// `RATE[:BURST]`: calls per second (a decimal), bursts of BURST (default twice RATE, at least 1); nil for 0.
    static func callRate(_ values: SettingValues, _ setting: Setting) throws(SettingsError) -> Rate? {
        guard let text = values.string(setting) else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let perSecond = Double(parts[0]), perSecond >= 0, perSecond.isFinite,
              parts.count == 1 || Int(parts[1]).map({ $0 >= 1 }) == true else {
            throw .invalid("\(setting.flag): '\(text)' is not RATE[:BURST], e.g. 50 or 50:200 (0: off)")
        }
        guard perSecond > 0 else { return nil }
        let burst = parts.count == 2 ? Int(parts[1]) ?? 1 : max(1, Int((perSecond * 2).rounded(.up)))
        return Rate(perSecond: perSecond, burst: burst)
    }

    /// `BURST[:SECONDS]`: BURST failures at once, then one per SECONDS (default 5); nil for 0.
    static func failureRate(_ values: SettingValues, _ setting: Setting) throws(SettingsError) -> Rate? {
        guard let text = values.string(setting) else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let burst = Int(parts[0]), burst >= 0,
              parts.count == 1 || Double(parts[1]).map({ $0 > 0 && $0.isFinite }) == true else {
            throw .invalid("\(setting.flag): '\(text)' is not BURST[:SECONDS], e.g. 20:5 (0: off)")
        }
        guard burst > 0 else { return nil }
        let seconds = parts.count == 2 ? Double(parts[1]) ?? 5 : 5
        return Rate(perSecond: 1 / seconds, burst: burst)
    }

    private static func level(_ text: String, _ setting: Setting) throws(SettingsError) -> LogLevel {
        guard let level = LogLevel(name: text) else {
            throw .invalid("\(setting.flag): '\(text)' is not one of debug, info, warning, error, off")
        }
        return level
    }
}
