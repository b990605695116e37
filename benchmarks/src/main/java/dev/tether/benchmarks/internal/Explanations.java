package dev.tether.benchmarks.internal;

/** What the report says about a missed target and about what the suite does not measure yet. */
final class Explanations {

    static final String NOT_MEASURED = """
            - Write syscalls per message, idle heap/RSS/threads per connection at 1,000 and 5,000 MQTT connections, \
            idle memory per server session at 10,000 WebSocket sessions and the time to drain them.
            - Resilience from a blackhole (half-open) connection, time to SUBACK after a reconnect without a kept \
            session, and the reconnect storm (2,000 clients, broker restart, three jitter modes).
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
        if (m.name().startsWith("reconnect")) {
            return "The time includes RST detection, a new TCP connect and CONNECT/CONNACK through the proxy on a "
                    + "loaded machine; not profiled yet." + spread;
        }
        if (m.name().startsWith("abort")) {
            return "The broker decides when to publish the Will after it sees the socket close." + spread;
        }
        return "Not investigated yet." + spread;
    }
}
