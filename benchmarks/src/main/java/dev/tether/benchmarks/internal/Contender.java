package dev.tether.benchmarks.internal;

import java.util.List;

/**
 * A client under test and how its JVM is started.
 *
 * @param id        short key, e.g. {@code paho3}
 * @param label     name shown in the report
 * @param classpath which build-time class path file to use ({@code tether}, {@code hivemq}, {@code paho}, or
 *                  {@link #BASELINE_CLASSPATH})
 * @param args      the role arguments for {@link ContenderMain}
 */
record Contender(String id, String label, String classpath, List<String> args) {

    static final String TETHER = "tether";

    /** The reconnect runs' floor: a blocking socket and a hand-written CONNECT, no library ({@link FloorDriver}). */
    static final Contender FLOOR = mqtt("floor", "no library (blocking socket)", "tether", "FloorDriver");

    /** The class path key of another build of Tether in the reconnect rounds ({@code --baseline}). */
    static final String BASELINE_CLASSPATH = "tether-baseline";

    /**
     * @param label what the report calls it (which build)
     * @return another build of Tether, with the same driver, for the side-by-side reconnect rounds
     */
    static Contender baseline(String label) {
        return mqtt(BASELINE_CLASSPATH, label, BASELINE_CLASSPATH, "TetherMqttDriver");
    }

    static Contender mqtt(String id, String label, String classpath, String driver) {
        return new Contender(id, label, classpath, List.of("role=mqtt", "driver=" + driver));
    }

    static List<Contender> mqttContenders(boolean quick) {
        List<Contender> all = List.of(
                mqtt(TETHER, "Tether", "tether", "TetherMqttDriver"),
                mqtt("hivemq", "HiveMQ client 1.4.2", "hivemq", "HiveMqDriver"),
                mqtt("paho3", "Paho mqttv3 1.2.5", "paho", "PahoV3Driver"),
                mqtt("paho5", "Paho mqttv5 1.2.5", "paho", "PahoV5Driver"));
        return quick ? all.subList(0, 3) : all;
    }

    static List<Contender> webSocketContenders() {
        return List.of(
                new Contender("ws-tether", "Tether", "tether", List.of("role=ws", "client=tether")),
                new Contender("ws-netty", "plain Reactor Netty", "tether", List.of("role=ws", "client=netty")));
    }
}
