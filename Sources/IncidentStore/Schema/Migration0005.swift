// Schema version 5: an index of the jobs that are running, by lease end, for the job runner's expired-lease sweep.

extension Migration {
    /// Indexes running jobs by `lease_until`. Every claim first dead-letters running jobs whose lease ran out on
    /// their last attempt; without this index that sweep read the whole jobs table (done jobs and far-off timers
    /// included), so under a flood of creates each claim got slower as the table grew and P0 pages waited
    /// (p0-flood-bench: 73 ms a claim at 700k jobs). Only running jobs are in it, so it stays small.
    static let v5 = Migration(version: 5, name: "running jobs by lease end", sql: #"""
    CREATE INDEX jobs_running_lease ON jobs (lease_until) WHERE state = 'running';
    """#)
}
