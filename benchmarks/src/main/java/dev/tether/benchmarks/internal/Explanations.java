package dev.tether.benchmarks.internal;

/** What the report says about a missed target and about what the suite does not measure yet. */
final class Explanations {

    static final String NOT_MEASURED = """
            - Paho v3 and v5 in the idle-connection runs (Paho starts threads per client; the target names HiveMQ).
            - Paho mqttv5 runs in the full suite only.
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
        if (m.name().startsWith("reconnect")) {
            return "The time includes RST detection, a new TCP connect and CONNECT/CONNACK through the proxy on a "
                    + "loaded machine; not profiled yet." + spread;
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
