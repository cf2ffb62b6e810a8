import AfterSaleClient
import AfterSaleProto
import AfterSaleServices
import Foundation
import Glibc
import RPCWire
import Testing

// The service desk through real aftersaled processes and the client stubs, as a support console
// and the buyer's app would call it; on PostgreSQL, two replicas dispatch one queue.

enum DeskStories {
    static func agent(_ client: RPCClient, _ id: String, team: String = "t-1", capacity: Int32 = 2) async throws {
        var upsert = UpsertAgentRequest()
        upsert.agentId = id
        upsert.name = "Agent \(id)"
        upsert.team = team
        upsert.skills = ["kind:return_and_refund", "lang:zh"]
        upsert.capacity = capacity
        _ = try await client.serviceDesk.upsertAgent(upsert, options: Callers.platform())
        var presence = SetPresenceRequest()
        presence.presence = .online
        _ = try await client.serviceDesk.setPresence(presence, options: Callers.agent(id))
    }

    static func open(_ client: RPCClient, buyer: String = "b-1", subject: String) async throws -> AfterSaleProto.Ticket {
        var open = OpenTicketRequest()
        open.subject = subject
        open.text = "请帮忙查一下"
        return try #require(try await client.serviceDesk.openTicket(open, options: Callers.buyer(buyer)).ticket)
    }

    static func get(_ client: RPCClient, _ id: String) async throws -> AfterSaleProto.Ticket {
        var get = GetTicketRequest()
        get.ticketId = id
        return try #require(try await client.serviceDesk.getTicket(get, options: Callers.platform()).ticket)
    }
}

extension Integration {
    @Suite("Service desk: a buyer's question reaches an online agent and is answered, through real processes")
    struct ServiceDeskTests {
        @Test("a question is dispatched at once to the online agent with spare capacity, answered, solved; the buyer sees public replies only")
        func question() async throws {
            try await TestStore.with("desk") { store in
                let replicas = try await ReplicaSet.start(1, store: store, extraArguments: ["--desk-sweep-interval", "200ms"])
                defer { replicas.killAll() }
                let client = try replicas.client()
                defer { client.close() }

                try await DeskStories.agent(client, "a-busy", capacity: 2)
                try await DeskStories.agent(client, "a-free", capacity: 1)
                let first = try await DeskStories.open(client, subject: "first")
                #expect(first.assignee == "a-busy" || first.assignee == "a-free")
                let second = try await DeskStories.open(client, subject: "second")
                #expect(second.status == .assigned)
                #expect(Set([first.assignee, second.assignee]) == ["a-busy", "a-free"], "the higher share of spare capacity first")

                var reply = ReplyToTicketRequest()
                reply.ticketId = first.ticketId
                reply.text = "您好，包裹明天到"
                _ = try await client.serviceDesk.replyToTicket(reply, options: Callers.agent(first.assignee))
                reply.text = "courier confirmed by phone"
                reply.internal = true
                _ = try await client.serviceDesk.replyToTicket(reply, options: Callers.agent(first.assignee))
                var solve = UpdateTicketStatusRequest()
                solve.ticketId = first.ticketId
                solve.status = .solved
                _ = try await client.serviceDesk.updateTicketStatus(solve, options: Callers.agent(first.assignee))

                var get = GetTicketRequest()
                get.ticketId = first.ticketId
                let seen = try #require(try await client.serviceDesk.getTicket(get, options: Callers.buyer("b-1")).ticket)
                #expect(seen.status == .solved)
                #expect(seen.entries.map(\.text).contains("您好，包裹明天到"))
                #expect(!seen.entries.map(\.text).contains("courier confirmed by phone"))
                #expect(seen.sla.first { $0.metric == "first_response" }?.state == "met")
                do {
                    _ = try await client.serviceDesk.getTicket(get, options: Callers.buyer("b-2"))
                    Issue.record("another buyer saw the ticket")
                } catch {
                    #expect((error as? RPCError)?.code == .notFound)
                }
                let feed = try await readFeed(client.afterSale, consumer: "desk-audit",
                                              types: [.ticketOpened, .ticketAssigned, .ticketUpdated])
                #expect(feed.filter { $0.ticket?.ticketId == first.ticketId }.map(\.eventType)
                        == [.ticketOpened, .ticketAssigned, .ticketUpdated, .ticketUpdated, .ticketUpdated])
                #expect(feed.allSatisfy { $0.ticket?.entries.allSatisfy(\.`public`) ?? true }, "no internal note on the feed")
                #expect(await replicas.stop().allSatisfy { $0 == 0 })
            }
        }
    }

    @Suite("Replicas: two replicas dispatch one queue on PostgreSQL")
    struct DeskReplicas {
        @Test("tickets opened on both replicas at once: each has one assignee, no agent goes over capacity, loads add up")
        func oneAssignee() async throws {
            try await TestStore.with("deskreplicas", backend: .postgres) { store in
                let replicas = try await ReplicaSet.start(2, store: store, extraArguments: ["--desk-sweep-interval", "100ms"])
                defer { replicas.killAll() }
                let clients = try replicas.ports.indices.map { try replicas.client($0) }
                defer { clients.forEach { $0.close() } }
                for i in 0..<6 { try await DeskStories.agent(clients[i % 2], "ag-\(i)", capacity: 3) }

                let opened = try await withThrowingTaskGroup(of: String.self) { group in
                    for i in 0..<30 {
                        group.addTask { try await DeskStories.open(clients[i % 2], buyer: "b-\(i)", subject: "q\(i)").ticketId }
                    }
                    var ids: [String] = []
                    for try await id in group { ids.append(id) }
                    return ids
                }
                // Both replicas sweep; wait (bounded) until the 18 places are taken.
                var tickets: [AfterSaleProto.Ticket] = []
                for _ in 0..<50 {
                    tickets = []
                    for id in opened { tickets.append(try await DeskStories.get(clients[0], id)) }
                    if tickets.filter({ $0.status == .assigned }).count >= 18 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let assigned = tickets.filter { $0.status == .assigned }
                #expect(assigned.count == 18, "6 agents × 3")
                var list = ListAgentsRequest()
                list.team = "t-1"
                let agents = try await clients[1].serviceDesk.listAgents(list, options: Callers.platform()).agents
                for agent in agents {
                    let held = assigned.filter { $0.assignee == agent.agentId }.count
                    #expect(Int(agent.load) == held, "\(agent.agentId): load \(agent.load), holds \(held)")
                    #expect(agent.load <= agent.capacity)
                }
                let feed = try await readFeed(clients[0].afterSale, consumer: "desk-replicas", types: [.ticketAssigned])
                for id in opened {
                    #expect(feed.filter { $0.ticket?.ticketId == id }.count <= 1, "\(id) assigned twice")
                }
                #expect(feed.count == 18)
            }
        }
    }
}
