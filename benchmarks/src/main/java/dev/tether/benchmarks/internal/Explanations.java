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
        if (m.name().startsWith("mqtt_qos1_puback") && !paho) {
            return "Profiled (JFR): a QoS 1 publish now allocates about 560 B (HiveMQ about 750 B): the message and "
                    + "its payload copy that the public API requires, the publish's own subscription, the reply record, "
                    + "Netty's write promise and the result; the PUBLISH is encoded straight into one buffer and short "
                    + "replies are read by the framer. Throughput also depends on the broker on the other core and on "
                    + "the machine's load; see docs/benchmarks.md, 'Allocation and idle memory'." + spread;
        }
        if (m.name().startsWith("mqtt_qos0") || m.name().startsWith("mqtt_qos1_puback")) {
            return (paho ? "On loopback the broker on the other core bounds every client, which leaves little room "
                    + "for a 2x lead over Paho."
                    : "QoS 0 end to end is bound by the round trip through the broker with the window of 100, not "
                    + "by client CPU; writing QoS 0 publishes in event-loop bursts was tried and halved throughput "
                    + "at 100 B, so QoS 0 keeps one write and flush per publish.") + spread;
        }
        if (m.name().startsWith("mqtt_qos1_alloc")) {
            return "Profiled (JFR, allocation samples): what is left per publish is the message and its payload copy "
                    + "(public API), the publish's subscription and Mono, the completion lists, the reply record, "
                    + "Netty's write promise and the result object; see docs/benchmarks.md." + spread;
        }
        if (m.name().startsWith("mqtt_qos1_cpu")) {
            return "Profiled (JFR): the per-publish objects named in the allocation row; CPU per message is measured "
                    + "on a core the client shares with the machine's other work, so it moves with the load." + spread;
        }
        if (m.name().startsWith("ws_stream")) {
            return "Measured: a streamed burst goes to the socket with one flush, and messages are not copied inside "
                    + "the library (a received payload is handed over, a sent one is written from the message's own "
                    + "array): about 270 bytes allocated per 100 B message against the plain client's 290 in a hand "
                    + "run. Left: the close-handshake handler, the heartbeat and the per-message accounting." + spread;
        }
        if (m.name().startsWith("blackhole")) {
            return "Detection waits for the keepalive to send PINGREQ and the ping timeout to expire." + spread;
        }
        if (m.name().equals("reconnect_overhead_after_rst")) {
            return "Measured step by step (lifecycle events and traces): the RST reaches the client in about 2 ms "
                    + "(HiveMQ's client the same), the engine classifies and schedules in well under 1 ms, and the new "
                    + "TCP connection through the proxy plus CONNECT/CONNACK through Mosquitto is the bulk, for both "
                    + "libraries. An attempt now opens a plain Netty channel instead of a Reactor Netty TcpClient (about "
                    + "1 ms less per connect in a probe). See docs/benchmarks.md, 'Reconnect overhead, side by side'."
                    + spread;
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
        if (m.name().startsWith("reconnect_overhead_after_rst") || m.name().equals("reconnect_rst_detected")) {
            return "One idle client per JVM, side by side with HiveMQ's client and with a no-library floor (a blocking "
                    + "socket and a hand-written CONNECT through the same proxy and broker): the floor is the harness's "
                    + "share, which < 5 ms leaves a library 1-2 ms above. Sampled every 1 ms, Tether's share was spread "
                    + "over the attempt's Reactor chain, the channel's set-up and, the largest single piece, Netty's "
                    + "CONNECT encoder (now replaced by a direct encoding); see docs/benchmarks.md, 'Reconnect "
                    + "overhead, side by side'." + spread;
        }
        if (m.name().startsWith("reconnect")) {
            return "Measured under traffic with a kept session: the proxy, a second client, a publisher and the "
                    + "measured client share one JVM on one core, every cut is counted (the first, cold ones too), and "
                    + "the broker replays the queued QoS 1 messages at once; that row measures the harness as much as "
                    + "the reconnect. reconnect_overhead_after_rst measures the reconnect alone, side by side with "
                    + "HiveMQ." + spread;
        }
        if (m.name().startsWith("mqtt_idle")) {
            return "Class histogram at 2,000 idle clients with a lifecycle subscriber each: about 4.5 KB per client "
                    + "(7.4 KB before this round): Netty's channel with three handler contexts about 1.3 KB (HiveMQ's "
                    + "client has a channel too), the engine about 0.45 KB, the last lifecycle event's endpoint about "
                    + "0.33 KB, the builder copy kept for toBuilder() about 0.2 KB; RSS moves with the pages touched "
                    + "while clients connect; see docs/benchmarks.md, 'Allocation and idle memory'." + spread;
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
