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
        boolean paho = m.peerName() != null && m.peerName().startsWith("Paho");
        if (m.name().startsWith("mqtt_qos0") || m.name().startsWith("mqtt_qos1_puback")) {
            return "Not profiled yet; the publish path (a Mono per publish through the core engine, the in-flight "
                    + "registry) is the first suspect."
                    + (paho ? " On loopback the broker on the other core bounds every client, which leaves little "
                    + "room for a 2x lead over Paho." : "") + spread;
        }
        if (m.name().startsWith("mqtt_qos1_cpu")) {
            return "Not profiled yet; the same per-publish path is the first suspect." + spread;
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
