import Foundation
import Synchronization
import HTTP
internal import CLinux

/// What an event loop calls back: readiness on a registered fd, and a periodic tick for deadlines.
protocol EventLoopHandler: AnyObject {
    func handleEvents(_ events: UInt32)
    /// Called every `EventLoop.tickInterval`, to enforce deadlines.
    func handleTick()
}

/// One thread running epoll: the owner of every connection registered on it.
///
/// Handlers are only ever called, and connections only ever touched, on the loop's thread;
/// other threads hand work to it with `execute`.
final class EventLoop: @unchecked Sendable {
    // Invariant: `handlers`, `stopped` and everything a handler owns are touched only on `thread`.
    static let tickInterval: UInt64 = 250_000_000

    let index: Int
    private let epollFD: Int32
    private let wakeFD: Int32
    private let pending = Mutex<[@Sendable () -> Void]>([])
    private var handlers: [Int32: any EventLoopHandler] = [:]
    private var stopped = false
    /// The loop's thread (`pthread_self()`), 0 until it starts: read on every `execute`, so an atomic, not a lock.
    private let threadID = Atomic<UInt>(0)
    /// Eventfd writes so far (for tests: a task queued from the loop's own thread needs none).
    private let wakeCount = Atomic<Int>(0)
    private let finished = DispatchSemaphore(value: 0)
    /// Scratch space for reads, shared by the loop's connections (they run one at a time).
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private var cachedDate: (second: Int, text: String) = (0, "")
    /// Set once the loop's thread has left `run()`: jobs then run where they are enqueued.
    private let exited = Atomic<Bool>(false)

    init(index: Int) throws {
        self.index = index
        let epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SystemCallError("epoll_create1") }
        let wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFD >= 0 else {
            close(epollFD)
            throw SystemCallError("eventfd")
        }
        var event = epoll_event()
        event.events = refex_EPOLLIN
        event.data.fd = wakeFD
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) == 0 else {
            close(epollFD)
            close(wakeFD)
            throw SystemCallError("epoll_ctl")
        }
        // Assigned last: once `self` is whole, deinit closes them.
        self.epollFD = epollFD
        self.wakeFD = wakeFD
    }

    deinit {
        close(epollFD)
        close(wakeFD)
        readBuffer.deallocate()
    }

    /// The `Date` header value for now, formatted once a second.
    func httpDate() -> String {
        let second = time(nil)
        if second != cachedDate.second {
            cachedDate = (second, HTTP.httpDate(secondsSince1970: second))
        }
        return cachedDate.text
    }

    /// Starts the loop on a new thread.
    func start(name: String) {
        let thread = Thread { [self] in
            threadID.store(UInt(pthread_self()), ordering: .releasing)
            // The kernel's name for the thread too (top -H, perf, /proc): at most 15 bytes.
            _ = pthread_setname_np(pthread_self(), String(name.utf8.prefix(15)) ?? "refex-loop")
            run()
            exited.store(true, ordering: .releasing)
            // Work queued while the loop was ending runs here, not never (see `enqueue`).
            runPendingTasks()
            finished.signal()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    var isRunning: Bool { threadID.load(ordering: .acquiring) != 0 }

    /// Runs queued tasks on the calling thread; only before `start`, while no thread owns the loop.
    func runQueuedTasksBeforeStart() {
        precondition(!isRunning, "the loop is running on its own thread")
        runPendingTasks()
    }

    var inLoop: Bool {
        let id = threadID.load(ordering: .acquiring)
        return id != 0 && id == UInt(pthread_self())
    }

    /// Runs `task` on the loop's thread, soon.
    ///
    /// From another thread, the first task queued wakes the loop (an eventfd write). From the loop's
    /// own thread no wake is needed: the loop runs what is queued before it waits again (`run`
    /// polls without blocking while tasks wait), and once it has left `run()` the thread drains
    /// the queue itself; this saves a system call per hop for tasks the loop gives itself (a
    /// request's task starting, a continuation resumed on the loop).
    func execute(_ task: @escaping @Sendable () -> Void) {
        let wasEmpty = pending.withLock { queue in
            queue.append(task)
            return queue.count == 1
        }
        if wasEmpty && !inLoop { wake() }
    }

    private func wake() {
        wakeCount.add(1, ordering: .relaxed)
        var one: UInt64 = 1
        _ = retryingOnInterrupt { write(wakeFD, &one, 8) }
    }

    /// How many times another thread had to wake the loop (for tests).
    var wakes: Int { wakeCount.load(ordering: .relaxed) }

    /// Asks the loop to return after its current iteration; `waitUntilFinished` waits for it.
    func stop() {
        execute { [self] in stopped = true }
    }

    func waitUntilFinished() { finished.wait() }

    // MARK: Registration (loop thread only)

    func register(_ fd: Int32, events: UInt32, handler: any EventLoopHandler) throws {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else { throw SystemCallError("epoll_ctl add") }
        handlers[fd] = handler
    }

    func modify(_ fd: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    func unregister(_ fd: Int32) {
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        handlers[fd] = nil
    }

    /// Every handler registered on this loop (for draining).
    var registeredHandlers: [any EventLoopHandler] { Array(handlers.values) }

    // MARK: The loop

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        var nextTick = MonotonicClock.now() + EventLoop.tickInterval
        while !stopped {
            let now = MonotonicClock.now()
            var timeout = nextTick > now ? Int32(min((nextTick - now) / 1_000_000 + 1, 1000)) : 0
            // A task the loop queued for itself (from a tick, say) woke nothing: look, don't wait.
            if timeout > 0 && pending.withLock({ !$0.isEmpty }) { timeout = 0 }
            let count = events.withUnsafeMutableBufferPointer { buffer in
                epoll_wait(epollFD, buffer.baseAddress, Int32(buffer.count), timeout)
            }
            if count < 0 && errno != EINTR {
                // epoll_wait fails only on programming errors (bad fd, bad buffer).
                preconditionFailure("epoll_wait: \(SystemCallError("epoll_wait"))")
            }
            var index = 0
            while index < Int(max(count, 0)) {
                let event = events[index]
                index += 1
                let fd = event.data.fd
                if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)
                    continue
                }
                // A handler closed by an earlier event in this batch is gone; its fd may even be reused.
                handlers[fd]?.handleEvents(event.events)
            }
            runPendingTasks()
            let after = MonotonicClock.now()
            if after >= nextTick {
                nextTick = after + EventLoop.tickInterval
                for handler in Array(handlers.values) { handler.handleTick() }
            }
        }
        // Whatever was queued after the stop still runs, so that nothing waits forever on it.
        runPendingTasks()
    }

    private func runPendingTasks() {
        while true {
            let tasks = pending.withLock { queue -> [@Sendable () -> Void] in
                guard !queue.isEmpty else { return [] }
                var taken: [@Sendable () -> Void] = []
                swap(&taken, &queue)
                return taken
            }
            if tasks.isEmpty { return }
            for task in tasks { task() }
        }
    }
}

/// A request's task runs on the loop that read it (`Task(executorPreference:)` in `Connection`):
/// its handler's synchronous work (parsing, validation, sealing) runs on the loop thread, a store
/// write hands it to the writer, and the writer's answer resumes it here, where the response is
/// written at once. Two thread hand-offs between a request's last byte in and its first byte
/// out: loop → store writer → loop (see BENCHMARKS.md, issue 17), not four (a task on the
/// cooperative pool, the writer, the pool again, the loop).
extension EventLoop: TaskExecutor {
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if exited.load(ordering: .acquiring) {
            // The loop is gone (shutdown): run the job here rather than leave its task waiting forever.
            job.runSynchronously(on: asUnownedTaskExecutor())
            return
        }
        execute { [self] in
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
