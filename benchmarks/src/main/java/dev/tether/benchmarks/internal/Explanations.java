package dev.tether.benchmarks.internal;

/** What the report says about a missed target and about what the suite does not measure yet. */
final class Explanations {

    static final String NOT_MEASURED = """
            - Paho v3 and v5 in the idle-connection runs (Paho starts threads per client; the target names HiveMQ).
            - Paho mqttv5 runs in the full suite only.
            """;

    private Explanations() {
    }

    static String why(Metric m) {
        String spread = m.minRatio() != null && m.maxRatio() != null && m.maxRatio() / Math.max(1e-9, m.minRatio()) > 1.5
                ? " The rounds spread widely (min–max above), so this run alone does not settle it."
                : "";
        if (m.name().startsWith("mqtt_qos0") || m.name().startsWith("mqtt_qos1_puback")
                || m.name().startsWith("mqtt_qos1_cpu")) {
            return "Not profiled yet: the publish path (a Mono per publish through the core engine) is the first "
                    + "suspect; on loopback with one window of " + Settings.WINDOW + " the broker on the other core "
                    + "also bounds every client, which narrows the gap a 2x target asks for." + spread;
        }
        if (m.name().startsWith("ws_stream")) {
            return "Tether's client adds its own close-handshake handler, heartbeat and a backpressured receive "
                    + "buffer above Reactor Netty; not profiled yet which costs most." + spread;
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
        if (m.name().startsWith("abort")) {
            return "The broker decides when to publish the Will after it sees the socket close." + spread;
        }
        return "Not investigated yet." + spread;
    }
}
