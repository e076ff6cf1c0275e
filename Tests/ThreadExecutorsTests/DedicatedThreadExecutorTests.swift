// A dedicated thread (urgent calls, the job runner): tasks that prefer it run there, before and after they
// suspend, in order.
import Foundation
import ThreadExecutors
import Testing

@Suite("Dedicated thread executor")
struct DedicatedThreadExecutorTests {
    @Test("a task that prefers it runs on its thread before and after a suspension")
    func runsOnItsThread() async throws {
        let executor = DedicatedThreadExecutor(name: "test-jobs")
        let onIt = await Task(executorPreference: executor) { () -> [Bool] in
            let before = executor.isCurrentThread
            try? await Task.sleep(for: .milliseconds(20))
            return [before, executor.isCurrentThread]
        }.value
        #expect(onIt == [true, true])
        #expect(await Task { executor.isCurrentThread }.value == false)
    }

    @Test("many tasks preferring it all finish")
    func manyTasksFinish() async {
        let executor = DedicatedThreadExecutor(name: "test-jobs-many")
        let total = await withTaskGroup(of: Int.self) { group in
            for index in 0..<200 {
                group.addTask(executorPreference: executor) {
                    await Task.yield()
                    return executor.isCurrentThread ? index : -1_000_000
                }
            }
            return await group.reduce(0, +)
        }
        #expect(total == (0..<200).reduce(0, +))
    }

    @Test("its thread carries the kernel name it was given, cut to 15 bytes (what top -H shows)")
    func threadName() async throws {
        let executor = DedicatedThreadExecutor(name: "test-thread-name-long")
        let name = await Task(executorPreference: executor) {
            try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
        }.value
        #expect(name == "test-thread-nam\n")
    }
}
