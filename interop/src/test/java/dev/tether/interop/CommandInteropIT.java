package dev.tether.interop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.samples.cli.TetherCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The {@code tether} probes and watcher against peers nobody here wrote. */
@ExtendWith(PeerLogs.class)
class CommandInteropIT {

    private static final Duration WAIT = Duration.ofSeconds(20);

    record Result(int code, String out, String err) {
    }

    private static Result tether(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = TetherCommand.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    @BeforeEach
    void clear() {
        PeerLogs.clear();
    }

    @Test
    void probeMqttAgainstMosquittoOverTcpAndWebSocket() {
        try (Mosquitto mosquitto = Mosquitto.start("probe", "probe-password")) {
            PeerLogs.register("mosquitto", mosquitto::log);
            for (String uri : new String[] {"tcp://127.0.0.1:" + mosquitto.tcpPort(), "ws://127.0.0.1:" + mosquitto.wsPort() + "/mqtt"}) {
                for (String version : new String[] {"3", "5"}) {
                    Result r = tether("probe", "mqtt", uri, "--username", "probe", "--password", "probe-password",
                            "--mqtt-version", version, "--will-wait", "2s", "--json");
                    assertThat(r.code()).as(uri + " v" + version + ": " + r.out() + r.err()).isZero();
                    assertThat(r.out()).contains("\"connack\":{\"code\":0,\"verdict\":\"accepted\"}", "\"as_expected\":true");
                }
            }
            Result refused = tether("probe", "mqtt", "tcp://127.0.0.1:" + mosquitto.tcpPort(), "--username", "probe",
                    "--password", "wrong", "--json");
            assertThat(refused.code()).isEqualTo(1);
            assertThat(refused.out()).contains("\"verdict\":\"refresh_credentials_then_retry\"").doesNotContain("wrong");
        }
    }

    @Test
    void probeWsNamesThePeersThatMisbehave() {
        String[][] cases = {{"normal", "none", "server"}, {"no-close-reply", "close_handshake", "client"},
                {"keep-tcp-open", "tcp_close", "client"}};
        for (String[] c : cases) {
            try (NodePeer server = NodePeer.start("ws-server.js", c[0])) {
                PeerLogs.register("ws server " + c[0], server::output);
                int port = NodePeer.intField(server.await(WAIT, "\"event\":\"ready\""), "port");
                Result r = tether("probe", "ws", "ws://127.0.0.1:" + port + "/", "--close-timeout", "800ms",
                        "--tcp-close-timeout", "400ms", "--json");
                assertThat(r.out()).as(c[0]).contains("\"timer_fired\":\"" + c[1] + "\"", "\"tcp_closed_by\":\"" + c[2] + "\"");
                assertThat(r.code()).as(c[0]).isEqualTo(c[0].equals("normal") ? 0 : 1);
                Result human = tether("probe", "ws", "ws://127.0.0.1:" + port + "/", "--close-timeout", "800ms",
                        "--tcp-close-timeout", "400ms");
                if (c[0].equals("no-close-reply")) {
                    assertThat(human.out()).contains("never answered the close frame");
                } else if (c[0].equals("keep-tcp-open")) {
                    assertThat(human.out()).contains("kept TCP open");
                }
            }
        }
    }

    @Test
    void watchMqttPrintsTheLifecycleAsJsonLines() {
        try (Mosquitto mosquitto = Mosquitto.start("watch", "watch-password")) {
            PeerLogs.register("mosquitto", mosquitto::log);
            Result r = tether("watch", "mqtt", "tcp://127.0.0.1:" + mosquitto.tcpPort(), "--username", "watch",
                    "--password", "watch-password", "--subscribe", "x/#", "--duration", "2s", "--json");
            assertThat(r.code()).as(r.out() + r.err()).isZero();
            assertThat(r.out().lines()).allSatisfy(l -> assertThat(l).startsWith("{\"time\":").contains("\"event\":"));
            assertThat(r.out()).contains("\"event\":\"connecting\"", "\"event\":\"connected\"", "\"event\":\"close_sent\"",
                    "\"event\":\"closed\"").doesNotContain("watch-password");
        }
    }
}
