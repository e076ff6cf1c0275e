// Schema version 6: ready jobs indexed by (priority, due_at, id), so a claim finds the most urgent due job
// without reading the timers that fall due later.

extension Migration {
    /// The claim index. `jobs_claimable` held ready and running jobs by (priority, due_at): a claim walking it in
    /// priority order read past every timer of a more urgent priority that is not yet due (two SLA clocks per
    /// incident), so under a flood each claim got slower as timers piled up, and the runner fell behind the
    /// creates. A claim now looks up each priority's due range on its own (`JobQueue.claim`), and running jobs
    /// whose lease ran out are put back to ready by the sweep that already uses `jobs_running_lease`.
    /// Replicas still on schema 5 keep working through an upgrade: their claim reads this table without the old
    /// index, slower but correct.
    static let v6 = Migration(version: 6, name: "ready jobs by priority and due time", sql: #"""
    CREATE INDEX jobs_ready ON jobs (priority, due_at, id) WHERE state = 'ready';
    DROP INDEX jobs_claimable;
    """#)
}
