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
            return "Profiled (JFR): every publish builds a Mono, a sink, an in-flight entry and a result, and copies "
                    + "its payload into the immutable message and again into the packet; publishes now cross to the "
                    + "event loop in bursts with one flush (that fix roughly doubled QoS 1 throughput), what is left "
                    + "is this per-publish work on the one core the client has, about 1.9x HiveMQ's allocation per "
                    + "message." + spread;
        }
        if (m.name().startsWith("mqtt_qos0") || m.name().startsWith("mqtt_qos1_puback")) {
            return (paho ? "On loopback the broker on the other core bounds every client, which leaves little room "
                    + "for a 2x lead over Paho."
                    : "QoS 0 end to end is bound by the round trip through the broker with the window of 100, not "
                    + "by client CPU; writing QoS 0 publishes in event-loop bursts was tried and halved throughput "
                    + "at 100 B, so QoS 0 keeps one write and flush per publish.") + spread;
        }
        if (m.name().startsWith("mqtt_qos1_alloc")) {
            return "Profiled (JFR, allocation samples): per publish a Mono and its sink, the in-flight entry (a boxed "
                    + "packet id in a map and a set), the result object, Netty's packet objects and one payload copy; "
                    + "per delivered message the delivery objects of the demand-driven inbound path." + spread;
        }
        if (m.name().startsWith("mqtt_qos1_cpu")) {
            return "Profiled (JFR): the per-publish objects and payload copies named above, plus the Mono each "
                    + "publish returns; the burst writes cut it from about 2.1x to about 1.2-1.7x HiveMQ." + spread;
        }
        if (m.name().startsWith("ws_stream")) {
            return "Measured: send(Publisher) cost one Mono and one event-loop task per message (flatMap over "
                    + "send(message)); it now writes bursts from one queue with one drain task, which took Tether "
                    + "from about 44k to 110k msg/s. The rest is not profiled yet: each message is copied three "
                    + "times on its way in and once on its way out (the plain client copies once), and the "
                    + "close-handshake handler and heartbeat sit in the pipeline." + spread;
        }
        if (m.name().startsWith("blackhole")) {
            return "Detection waits for the keepalive to send PINGREQ and the ping timeout to expire." + spread;
        }
        if (m.name().equals("reconnect_overhead_after_rst")) {
            return "Measured step by step from Tether's lifecycle events on this machine under load: the RST reaches "
                    + "the client in about 2 ms (HiveMQ the same), the engine classifies and schedules in 0.3-1 ms, the "
                    + "timer fires 0.2 ms late, and the new TCP connection through the proxy plus CONNECT/CONNACK through "
                    + "Mosquitto take 7-10 ms, the bulk; HiveMQ's client spends about as long on the same path. See "
                    + "docs/benchmarks.md, 'Reconnect overhead, side by side'." + spread;
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
        if (m.name().startsWith("reconnect")) {
            return "Measured under traffic with a kept session: the proxy, a second client, a publisher and the "
                    + "measured client share one JVM on one core, every cut is counted (the first, cold ones too), and "
                    + "the broker replays the queued QoS 1 messages at once; that row measures the harness as much as "
                    + "the reconnect. reconnect_overhead_after_rst measures the reconnect alone, side by side with "
                    + "HiveMQ." + spread;
        }
        if (m.name().startsWith("mqtt_idle")) {
            return "Tether keeps per-connection state the peer does not (lifecycle sinks, the retry pipeline, the "
                    + "subscription registry, the offline buffer); not profiled yet which part costs most." + spread;
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
