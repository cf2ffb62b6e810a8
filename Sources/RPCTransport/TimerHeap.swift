/// Identifies a scheduled timer so that it can be cancelled.
public struct TimerID: Hashable, Sendable {
    let value: UInt64
}

/// A binary min-heap of deadlines. Cancelled timers stay in the heap and are skipped when they
/// come up, which keeps cancel O(1).
struct TimerHeap {
    private struct Entry {
        let deadline: UInt64
        let id: UInt64
    }

    private var heap: [Entry] = []
    private var work: [UInt64: @Sendable () -> Void] = [:]
    private var nextID: UInt64 = 0

    var earliest: UInt64? {
        heap.first?.deadline
    }

    mutating func insert(_ deadline: UInt64, _ action: @escaping @Sendable () -> Void) -> TimerID {
        nextID &+= 1
        work[nextID] = action
        heap.append(Entry(deadline: deadline, id: nextID))
        siftUp(heap.count - 1)
        return TimerID(value: nextID)
    }

    mutating func cancel(_ id: TimerID) {
        work[id.value] = nil
    }

    /// The action of the earliest timer due at `now`, removed; cancelled timers are dropped on the way.
    mutating func popDue(now: UInt64) -> (@Sendable () -> Void)? {
        while let top = heap.first, top.deadline <= now {
            removeTop()
            if let action = work.removeValue(forKey: top.id) { return action }
        }
        // Drop cancelled entries at the top so `earliest` does not wake the loop for nothing.
        while let top = heap.first, work[top.id] == nil { removeTop() }
        return nil
    }

    private mutating func removeTop() {
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
    }

    private mutating func siftUp(_ index: Int) {
        var i = index
        while i > 0 {
            let parent = (i - 1) / 2
            if heap[parent].deadline <= heap[i].deadline { break }
            heap.swapAt(parent, i)
            i = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var i = index
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heap.count && heap[l].deadline < heap[smallest].deadline { smallest = l }
            if r < heap.count && heap[r].deadline < heap[smallest].deadline { smallest = r }
            if smallest == i { return }
            heap.swapAt(i, smallest)
            i = smallest
        }
    }
}
