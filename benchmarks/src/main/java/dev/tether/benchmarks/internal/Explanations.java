package dev.tether.benchmarks.internal;

/** What the report says about a missed target and about what the suite does not measure yet. */
final class Explanations {

    static final String NOT_MEASURED = """
            - Paho v3 and v5 in the idle-connection runs (Paho starts threads per client; the target names HiveMQ).
            - Paho mqttv5 runs in the full suite only, at 100 B; Paho v3 runs 100 B and 1 KiB (its goal row is QoS 0             100 B); QoS 0 end to end at 64 KiB is not run (no goal row; the full run's time budget goes to more rounds).
            - Paho v3 and v5 in the slow-consumer run: neither has a reactive API that follows demand; the \
            message callback runs on the client's one callback thread and acknowledges when it returns, so the same \
            workload would need an executor queue of our own in front of the work.
            """;

    private Explanations() {
    }

    static String why(Metric m) {
        String spread = m.minRatio() != null && m.maxRatio() != null && m.maxRatio() / Math.max(1e-9, m.minRatio()) > 1.5
                ? " The rounds spread widely (min–max above), so this run alone does not settle it."
                : "";
        boolean paho = m.peerName() != null && m.peerName().startsWith("Paho");
        if (m.name().contains("_durable_store")) {
            return "The store writes every QoS 1 message into its MVStore map on the publishing thread before it goes "
                    + "out, and commits in groups every 10 ms on a thread of its own: in a hand run about 2.9 KB "
                    + "allocated and 16 µs of CPU more per message than in memory, on the core the client shares with "
                    + "its event loop. The in-memory run it is divided by is bounded by the broker (see the broker "
                    + "rows); see docs/mqtt.md, 'Surviving a restart: the session store'." + spread;
        }
        if (m.name().startsWith("mqtt_qos1_puback") && !paho) {
            return "Profiled (JFR): a QoS 1 publish allocates about 285 B in hand runs (HiveMQ about 750 B): the "
                    + "message, the publish (which is also the Mono publish() returns) and the result (its write takes "
                    + "the connection's one void promise since this round); completion lists are reused per thread and the framer refills one reply per "
                    + "acknowledgement. Throughput is bounded by the broker on the other core: read the broker rows "
                    + "(mqtt_qos1_broker_busy_share_100B near 1.0 means Mosquitto's core was saturated and no client "
                    + "could go faster; below that, the round trips through its Nagle-held PUBACKs pace both clients); "
                    + "see docs/benchmarks.md, 'What bounds QoS 1'." + spread;
        }
        if (m.name().startsWith("mqtt_qos0") || m.name().startsWith("mqtt_qos1_puback")) {
            return (paho ? "On loopback the broker on the other core bounds every client, which leaves little room "
                    + "for a 2x lead over Paho."
                    : "QoS 0 end to end is bound by the round trip through the broker with the window of 100 as much "
                    + "as by client CPU, and by Mosquitto's Nagle's algorithm (set_tcp_nodelay is off by default) on "
                    + "its writes to the subscriber: a burst of QoS 0 publishes written in one segment halved 100 B "
                    + "(17-21k msg/s in hand runs); each is now flushed on its own (31-43k), and with set_tcp_nodelay "
                    + "on every build ran 64-79k; see docs/benchmarks.md, 'Publish path', second pass.") + spread;
        }
        if (m.name().startsWith("mqtt_qos1_alloc")) {
            return "Profiled (JFR, allocation samples): what is left per publish is the message (the driver wraps its "
                    + "payload, as HiveMQ's driver does), the publish (also its Mono) and the result object (the write "
                    + "takes the connection's one void promise since this round, 334 -> 284 B in hand runs); see docs/benchmarks.md, 'Publish path'." + spread;
        }
        if (m.name().startsWith("mqtt_qos1_cpu")) {
            return "Profiled (JFR): the per-publish objects named in the allocation row. Most of the client's CPU per "
                    + "QoS 1 message is the kernel's (mqtt_qos1_client_kernel_cpu_share_100B: on loopback the sender's "
                    + "core also runs the TCP receive work for the broker), which a client changes only through how many "
                    + "messages each system call carries; see docs/benchmarks.md, 'What bounds QoS 1'." + spread;
        }
        if (m.name().startsWith("ws_stream")) {
            return "Profiled (JFR): a streamed send passes one promise and one listener to all its writes and asks its "
                    + "source for 64 messages at a time, as Reactor Netty's sender does, and the pipe hands its arrays "
                    + "over (wrapBinary) and keeps each echo as the message it is: about 320 bytes allocated per echoed "
                    + "message in hand runs, the plain client 270 B (the rest is Tether's two message objects). Each "
                    + "client saturates its core, and one JVM's rate differs from the next by up to 2x for either "
                    + "client: it runs this one scenario from cold, with the JIT compilers on the same core; see "
                    + "docs/benchmarks.md, 'WebSocket streaming'." + spread;
        }
        if (m.name().startsWith("blackhole")) {
            return "Detection waits for the keepalive to send PINGREQ and the ping timeout to expire." + spread;
        }
        if (m.name().equals("reconnect_overhead_after_rst")) {
            return "The no-library floor (a blocking socket through the same warmed proxy and broker) is the harness's "
                    + "share; above it, each library spends 1.5-3.5 ms more event-loop CPU per reconnect than the "
                    + "floor's blocking socket (Tether the more), in code that runs interpreted (13 reconnects per "
                    + "JVM) while the JIT compilers work on the same pinned core (see the CPU per reconnect rows). "
                    + "Sampled every 1 ms, Tether's share is "
                    + "spread over the session's end through the engine, CONNACK to Connected and the channel's set-up, "
                    + "none above a quarter. See docs/benchmarks.md, 'Reconnect overhead, side by side'." + spread;
        }
        if (m.name().startsWith("storm_simulated_vs_real")) {
            return "The real 500-client storm runs 500 clients and the proxy in one JVM on one shared core: its "
                    + "attempts take from milliseconds to seconds depending on the machine's load, which the simulator "
                    + "takes as measured deciles but not as their correlation in time. See docs/benchmarks.md." + spread;
        }
        if (m.name().startsWith("storm_simulated")) {
            return "HiveMQ's policy waits 1 s, 2 s, 4 s ... up to 120 s with ±25% around each: fewer attempts, but its "
                    + "clients come back later; full jitter's mean delay is half its bound, so it retries more often "
                    + "for the same bound. See the simulated storm section and docs/DESIGN.md." + spread;
        }
        if (m.name().startsWith("reconnect_overhead_after_rst") || m.name().equals("reconnect_rst_detected")
                || m.name().equals("reconnect_cpu_ms_per_reconnect") || m.name().equals("reconnect_alloc_bytes_per_reconnect")) {
            return "One idle client per JVM, side by side with HiveMQ's client and with a no-library floor (a blocking "
                    + "socket and a hand-written CONNECT through the same proxy and broker): the floor is the harness's "
                    + "share, which < 5 ms leaves a library 1-2 ms above. Sampled every 1 ms, Tether's share is spread "
                    + "over the channel's set-up, CONNECT, the session's end through the engine and the attempt, none "
                    + "of them large; see docs/benchmarks.md, 'Reconnect overhead, side by side'." + spread;
        }
        if (m.name().startsWith("reconnect")) {
            return "Measured under traffic with a kept session: the proxy, a second client, a publisher and the "
                    + "measured client share one JVM on one core, every cut is counted (the first, cold ones too), and "
                    + "the broker replays the queued QoS 1 messages at once; that row measures the harness as much as "
                    + "the reconnect. reconnect_overhead_after_rst measures the reconnect alone, side by side with "
                    + "HiveMQ." + spread;
        }
        if (m.name().startsWith("mqtt_alloc_bytes_per_connect")) {
            return "Garbage and kept objects alike, from the first connect's end to the last one's (threads that "
                    + "ended are not counted): the Netty channel and its pipeline, the client and its engine, the "
                    + "attempt, CONNECT and CONNACK. What it costs shows in the RSS rows; see docs/benchmarks.md, "
                    + "'Allocation and idle memory'." + spread;
        }
        if (m.name().startsWith("mqtt_idle")) {
            return "Class histogram at 2,001 idle clients with a lifecycle subscriber each: about 3.65 KB per client "
                    + "in a hand run (4.5 KB before this round): Netty's channel with two handler contexts about 1.2 KB "
                    + "(HiveMQ's client has a channel too), the MQTT state about 1.1 KB, the engine about 0.45 KB. RSS "
                    + "follows the garbage of connecting (the mqtt_alloc_bytes_per_connect row: 9.8 KB per connect "
                    + "against HiveMQ's 8.3 KB in hand runs, 10.7 KB before a connect stopped making a Bootstrap): "
                    + "neither client keeps native or direct memory per connection, and the heap pages touched before "
                    + "the first young collection stay resident; see docs/benchmarks.md, 'Allocation and idle memory'."
                    + spread;
        }
        if (m.name().startsWith("mqtt_slow_consumer")) {
            return "Not profiled yet. With Receive Maximum " + SlowConsumerWorkload.RECEIVE_MAXIMUM
                    + ", the worker's prefetch of " + SlowConsumerWorkload.PREFETCH
                    + " and acknowledgement on emission, the client should hold about "
                    + (SlowConsumerWorkload.RECEIVE_MAXIMUM + SlowConsumerWorkload.PREFETCH)
                    + " messages at a time (about 2 MiB of payloads at 16 KiB) above its idle heap; see the "
                    + "contender log and the notes for the idle heap and the collections." + spread;
        }
        if (m.name().startsWith("abort")) {
            return "The broker decides when to publish the Will after it sees the socket close." + spread;
        }
        return "Not investigated yet." + spread;
    }
}
