// The store's front door: open (migrating), create, update, read, list, follow changes, verify the audit chain.
import Foundation
import IncidentCore
import Synchronization

/// Incidents in Postgres. Creates go through group commit; everything else through a small pool.
public final class IncidentStore: Sendable {
    /// Internal so the store's extensions in other files (timers) share it.
    let pool: ConnectionPool
    private let writer: GroupCommitWriter
    private let signal = ChangeSignal()
    private let listener: NotificationListener?
    /// The incidents columns the change feed reads without the payload (see `incidentColumnsWithoutPayload`).
    private let payloadFreeColumns = Mutex<String?>(nil)
    /// The background job queue kept in the same database.
    public let jobs: JobQueue

    private init(configuration: StoreConfiguration) {
        pool = ConnectionPool(settings: configuration.connection, size: configuration.poolSize)
        writer = GroupCommitWriter(settings: configuration.connection, writers: configuration.writers,
                                   maxBatch: configuration.maxBatch, queueCapacity: configuration.writeQueueCapacity)
        listener = configuration.listensForChanges
            ? NotificationListener(settings: configuration.connection, signal: signal) : nil
        jobs = JobQueue(pool: pool)
    }

    /// Brings the schema up to date (safe with several replicas starting at once) and starts the connections.
    /// Throws `schemaTooNew` when the database was migrated by a newer binary.
    public static func open(_ configuration: StoreConfiguration) async throws -> IncidentStore {
        try await migrate(configuration.connection)
        return IncidentStore(configuration: configuration)
    }

    /// Applies missing migrations and returns the schema version; exposed for tools and tests.
    @discardableResult
    public static func migrate(_ settings: ConnectionSettings) async throws -> Int {
        let worker = ConnectionWorker(settings: settings, name: "pg-migrate", capacity: 1)
        defer { worker.stop() }
        do {
            return try await worker.run { try Migrator.migrate($0) }
        } catch let error as PostgresError {
            throw error.storeError
        }
    }

    /// The schema version this binary writes.
    public static var schemaVersion: Int { Migration.latestVersion }

    /// Stops writers (after what is queued), the pool and the listener.
    public func shutdown() {
        writer.shutdown()
        pool.shutdown()
        listener?.stop()
    }

    // MARK: - Writes

    /// Creates the incident for a new event, or recognises a replay; returns after the commit.
    /// Throws `duplicateConflict` when the event id was used with different content.
    /// Throws `overloaded` when the write queue is full and this create (or a waiting one displaced by it) is
    /// the least urgent; P0 is never refused for load.
    public func createIncident(_ request: CreateIncidentRequest) async throws -> CreateIncidentResult {
        let result = try await writer.create(request)
        let enqueued = result.correlated ? result.raised && !request.raiseJobs.isEmpty
            : !result.duplicate && !request.jobs.isEmpty
        if enqueued { jobs.signalEnqueued() }
        return result
    }

    /// How many creates wait for a group-commit writer at each priority (index 0 is P0).
    public var writeQueueDepths: [Int] { writer.queueDepths }

    /// Creates refused for load since start, per priority (index 0 is P0).
    public var writeRefusals: [Int] { writer.refusalCounts }

    /// Commit batches of less urgent creates that an arriving P0 cancelled and had written again after it.
    public var writePreemptions: Int { writer.preemptionCount }

    /// The short-operation pool's busy connections and size, sampled now.
    public var poolUsage: (busy: Int, size: Int) { (pool.busyCount, pool.size) }

    /// Applies a conditional update, writing the audit entry and change-log row in the same transaction.
    public func updateIncident(_ update: IncidentUpdate) async throws -> UpdateIncidentResult {
        let statement = Statement("""
            SELECT outcome, version, change_position AS position FROM im_update_incident(
                $1::text, $2::bigint, $3::text, $4::text, $5::text, $6::text, $7::jsonb, $8::jsonb, $9::jsonb,
                $10::jsonb, $11::text, $12::smallint, $13::jsonb)
            """, [
                update.incidentID.description, update.expectedVersion, update.actor, update.status?.rawValue,
                update.assignedTeam, update.escalationPolicy, try update.tags.map(JSONColumn.encode),
                try JSONColumn.encode(update.timelineEntries), try update.remediationActions.map(JSONColumn.encode),
                try JSONColumn.encode(update.jobs.map(JobRecord.init)), update.severity?.rawValue,
                update.priority?.rawValue, try update.resolution.map(JSONColumn.encode),
            ])
        let row = try await pool.withConnection { connection in
            let outcomes = try connection.pipeline([Statement("BEGIN"), statement, Statement("COMMIT")])
            if let failure = outcomes.first(where: { if case .failure = $0 { true } else { false } }),
               case .failure(let error) = failure {
                if connection.isConnected && connection.isInTransaction { _ = try? connection.query("ROLLBACK") }
                throw error
            }
            guard let row = try outcomes[1].get().first else {
                throw PostgresError(.decoding, message: "update returned no row")
            }
            return row
        }
        let id = update.incidentID.description
        let outcome = try row.decode("outcome", as: String.self)
        if outcome == "updated" && !update.jobs.isEmpty { jobs.signalEnqueued() }
        switch outcome {
        case "not_found": throw StoreError.notFound(incidentID: id)
        case "conflict":
            throw StoreError.versionConflict(incidentID: id, expected: update.expectedVersion,
                                             actual: try row.decode("version"))
        default:
            return UpdateIncidentResult(version: try row.decode("version"), position: try row.decode("position"))
        }
    }

    // MARK: - Reads

    /// Byte budget of a ListIncidents page: with the incident that crosses it (at most ~1.6 MiB: a 1 MiB payload
    /// and a timeline capped at 512 KiB) a page stays under gRPC's 4 MiB message limit.
    public static let pageByteBudget = 2 << 20
    /// Byte budget of one change-feed batch (streams and the hub read the log in such batches).
    public static let feedByteBudget = 8 << 20

    /// The incident with this id; its encrypted payload only when `includePayload`.
    public func incident(_ id: IncidentID, includePayload: Bool = false) async throws -> Incident {
        let columns = incidentColumns(payload: includePayload ? "i.encrypted_payload" : nil)
        let result = try await pool.withConnection { connection in
            try connection.query("SELECT \(columns) FROM incidents i WHERE i.id = $1", [id.description])
        }
        guard let row = result.first else { throw StoreError.notFound(incidentID: id.description) }
        return try decoding { try Incident(row: row) }
    }

    /// A page of incidents matching the filters, newest first, with a keyset cursor for the next page. The page
    /// ends at `query.limit` incidents or once `query.byteBudget` is used up, whichever comes first.
    public func listIncidents(_ query: IncidentQuery) async throws -> IncidentPage {
        let limit = max(1, min(query.limit, 1000))
        var cursorTime: String?
        var cursorID: String?
        if let cursor = query.cursor {
            guard let bar = cursor.lastIndex(of: "|"), IncidentID(String(cursor[cursor.index(after: bar)...])) != nil
            else { throw StoreError.invalid(reason: "malformed page cursor") }
            cursorTime = String(cursor[..<bar])
            cursorID = String(cursor[cursor.index(after: bar)...])
        }
        func list(_ values: [String]) -> TextArray? { values.isEmpty ? nil : TextArray(elements: values) }
        let binds: [(any PostgresEncodable)?] = [
            query.status?.rawValue, query.severity?.rawValue, query.maxPriority?.rawValue, query.source,
            query.assignedTeam, cursorTime, cursorID, limit + 1, list(query.statuses.map(\.rawValue)),
            list(query.severities.map(\.rawValue)), list(query.categories), query.createdAfter.map(EpochMicros.init),
            query.createdBefore.map(EpochMicros.init), Int64(max(1, query.byteBudget)),
            list(query.levels.map { String($0.rawValue) }),
        ]
        let payload = query.includePayload ? "i.encrypted_payload" : nil
        // Rows past the budget are filtered above the LIMIT: their columns (the payload above all) are never
        // read, since values are fetched from TOAST only when sent.
        let statement = Statement("""
                SELECT * FROM (
                    SELECT \(incidentColumns(payload: payload)), \(incidentRowBytes(payload: payload)) AS row_bytes,
                           sum(\(incidentRowBytes(payload: payload))) OVER (ORDER BY i.created_at DESC, i.id DESC)
                               AS running_bytes
                    FROM incidents i
                    WHERE ($1::text IS NULL OR i.status = $1) AND ($2::text IS NULL OR i.severity = $2)
                      AND ($3::smallint IS NULL OR i.priority <= $3) AND ($4::text IS NULL OR i.source = $4)
                      AND ($5::text IS NULL OR i.assigned_team = $5)
                      AND ($9::text[] IS NULL OR i.status = ANY($9)) AND (($10::text[] IS NULL AND $15::text[] IS NULL) OR i.severity = ANY($10)
                           OR i.priority = ANY($15::text[]::smallint[]))
                      AND ($11::text[] IS NULL OR i.category = ANY($11))
                      AND ($12::double precision IS NULL OR i.created_at >= to_timestamp($12))
                      AND ($13::double precision IS NULL OR i.created_at < to_timestamp($13))
                      AND ($6::timestamptz IS NULL OR (i.created_at, i.id) < ($6::timestamptz, $7::text))
                    ORDER BY i.created_at DESC, i.id DESC
                    LIMIT $8
                ) page
                WHERE running_bytes - row_bytes < $14
                ORDER BY running_bytes
                """, binds)
        let result = try await pool.withConnection { try $0.run(statement) }
        let rows = result.allRows
        let incidents = try decoding { try rows.prefix(limit).map(Incident.init(row:)) }
        var next: String?
        if let last = rows.prefix(limit).last {
            let overBudget = try decoding { try last.decode("running_bytes", as: Int64.self) } >= query.byteBudget
            if rows.count > limit || overBudget {
                next = try decoding {
                    "\(try last.decode("cursor_time", as: String.self))|\(try last.decode("id", as: String.self))"
                }
            }
        }
        return IncidentPage(incidents: incidents, nextCursor: next)
    }

    // MARK: - Change feed

    /// Changes after `position`, in position order, each with the incident as it was right after that change
    /// (the snapshot kept when the row moved on, else the current row: see `Migration.v3`). Positions become
    /// visible strictly in order (see `im_begin_changes`), so reading on from the last position seen never
    /// skips one. Payloads only when `includePayload`; no byte budget (see `changeBatch` for one).
    public func changes(after position: Int64, limit: Int = 500, includePayload: Bool = false)
        async throws -> [IncidentChange] {
        try await changeBatch(after: position, limit: limit, includePayload: includePayload, byteBudget: .max).changes
    }

    /// Like `changes`, ending the batch once the changes' estimated size reaches `byteBudget` (it holds at least
    /// one change, and the one that crosses the budget).
    public func changeBatch(after position: Int64, limit: Int = 500, includePayload: Bool = false,
                            byteBudget: Int = IncidentStore.feedByteBudget) async throws -> IncidentChangeBatch {
        let columns = try await incidentColumnsWithoutPayload()
        let payload = includePayload ? "cur.encrypted_payload" : nil
        let rowBytes = incidentRowBytes(payload: payload)
        let result = try await pool.withConnection { connection in
            // The snapshot supplies what changed; the current row the rest (columns added after the snapshot was
            // written). The current row goes in as its listed columns, not as a whole row: a whole-row value
            // fetches every TOASTed column, so each change read its incident's payload even when nobody sent it.
            try connection.query("""
                SELECT * FROM (
                    SELECT c.position AS change_position, c.kind, c.version AS change_version,
                           extract(epoch FROM c.committed_at) AS committed_at_epoch, \(incidentColumns(payload: payload)),
                           \(rowBytes) AS row_bytes, sum(\(rowBytes)) OVER (ORDER BY c.position) AS running_bytes
                    FROM change_log c
                    JOIN incidents cur ON cur.id = c.incident_id
                    LEFT JOIN change_snapshots s ON s.position = c.position
                    CROSS JOIN LATERAL (SELECT \(columns)) AS light
                    CROSS JOIN LATERAL jsonb_populate_record(
                        NULL::incidents, to_jsonb(light) || coalesce(s.incident - 'encrypted_payload', '{}'::jsonb)) AS i
                    WHERE c.position > $1 ORDER BY c.position LIMIT $2
                ) feed
                WHERE running_bytes - row_bytes < $3
                ORDER BY change_position
                """, [position, max(1, min(limit, 10_000)), Int64(clamping: max(1, byteBudget))])
        }
        return try decoding {
            let changes = try result.allRows.map { row in
                IncidentChange(
                    position: try row.decode("change_position"), kind: try row.decode("kind"),
                    version: try row.decode("change_version"),
                    committedAt: try row.decode("committed_at_epoch", as: EpochMicros.self).date,
                    incident: try Incident(row: row))
            }
            let stopped = try result.allRows.last.map { try $0.decode("running_bytes", as: Int64.self) }
                .map { $0 >= Int64(clamping: byteBudget) } ?? false
            return IncidentChangeBatch(changes: changes, stoppedAtByteBudget: stopped)
        }
    }

    /// `cur.<column>` for every incidents column but the payload, read from the catalog once: a migration that
    /// adds a column needs no change here.
    private func incidentColumnsWithoutPayload() async throws -> String {
        if let known = payloadFreeColumns.withLock({ $0 }) { return known }
        let result = try await pool.withConnection { connection in
            try connection.query("""
                SELECT string_agg('cur.' || quote_ident(attname), ', ' ORDER BY attnum) AS columns
                FROM pg_attribute
                WHERE attrelid = 'incidents'::regclass AND attnum > 0 AND NOT attisdropped
                  AND attname <> 'encrypted_payload'
                """)
        }
        let columns = try decoding { try result.first!.decode("columns", as: String.self) }
        payloadFreeColumns.withLock { $0 = columns }
        return columns
    }

    /// The newest committed change position (0 when there is none).
    public func latestPosition() async throws -> Int64 {
        let result = try await pool.withConnection { connection in
            try connection.query("SELECT coalesce(max(position), 0) AS p FROM change_log")
        }
        return try decoding { try result.first!.decode("p", as: Int64.self) }
    }

    /// Waits until a change after `position` has committed (true) or `timeout` passes (false). Woken by
    /// LISTEN/NOTIFY, so it costs one query per wake-up, not a poll loop.
    public func waitForChanges(after position: Int64, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let seen = signal.current
            if try await latestPosition() > position { return true }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return false }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [signal] in await signal.wait(after: seen) }
                group.addTask { try? await Task.sleep(for: min(remaining, .seconds(5))) }
                await group.next()
                group.cancelAll()
            }
            try Task.checkCancellation()
        }
    }

    // MARK: - Audit

    /// Recomputes every audit entry's hash and link to its predecessor, and checks the chain head.
    public func verifyAuditChain() async throws -> AuditChainReport {
        let result = try await pool.withConnection { connection in
            try connection.query("""
                WITH checked AS (
                    SELECT seq, hash,
                           hash = im_audit_digest(prev_hash, seq, incident_id, actor, action, old_value, new_value, at)
                           AND prev_hash = coalesce(lag(hash) OVER (ORDER BY seq), decode(repeat('00', 32), 'hex'))
                           AS intact
                    FROM audit_log
                )
                SELECT (SELECT count(*) FROM checked) AS entries,
                       (SELECT min(seq) FROM checked WHERE NOT intact) AS first_broken,
                       (SELECT h.audit_hash = coalesce((SELECT hash FROM checked ORDER BY seq DESC LIMIT 1),
                                                       decode(repeat('00', 32), 'hex'))
                        FROM chain_head h WHERE h.id = 1) AS head_matches
                """)
        }
        return try decoding {
            let row = result.first!
            return AuditChainReport(entries: try row.decode("entries"),
                                    firstBrokenSequence: try row.decodeIfPresent("first_broken"),
                                    headMatches: try row.decode("head_matches"))
        }
    }
}

/// Runs row decoding, turning a decoding failure into a client-safe `StoreError`.
func decoding<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as PostgresError {
        throw error.storeError
    } catch let error as StoreError {
        throw error
    } catch {
        throw StoreError.internalFailure(reason: "stored data did not decode")
    }
}
