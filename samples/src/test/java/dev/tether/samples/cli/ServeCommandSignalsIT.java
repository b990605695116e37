package dev.tether.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ResilientConnection;
import dev.tether.core.testing.Recorder;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketSession;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code tether serve ws} as a real process: SIGHUP reloads (clients see 1012 and come back),
 * SIGTERM drains (clients see 1001) and the process exits 0.
 */
class ServeCommandSignalsIT {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void sighupReloadsAndSigtermDrainsThenExitsZero() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), TetherCommand.class.getName(),
                "serve", "ws", "--port", "0", "--onebot", "--json").redirectErrorStream(true).start();
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        List<String> all = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    lines.add(l);
                    all.add(l);
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        ResilientConnection<WebSocketSession> client = null;
        try {
            String started = await(lines, "\"event\":\"started\"", all);
            Matcher m = Pattern.compile("\"port\":(\\d+)").matcher(started);
            assertThat(m.find()).isTrue();
            int port = Integer.parseInt(m.group(1));
            client = ResilientConnection.builder(WebSocketClient.builder().build())
                    .endpoint(Endpoint.of("ws://127.0.0.1:" + port + "/ws")).build();
            try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(client.lifecycle())) {
                client.start();
                rec.next(LifecycleEvent.Connected.class, WAIT);

                signal(p, "HUP");
                assertThat(rec.next(LifecycleEvent.CloseReceived.class, WAIT).code()).isEqualTo(1012);
                LifecycleEvent.Connected back = rec.next(LifecycleEvent.Connected.class, WAIT);
                assertThat(back.generation()).isGreaterThan(1);

                signal(p, "TERM");
                assertThat(rec.next(LifecycleEvent.CloseReceived.class, WAIT).code()).isEqualTo(1001);
                assertThat(p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as("exited; output: %s", all).isTrue();
                assertThat(p.exitValue()).as("output: %s", all).isZero();
                assertThat(String.join("\n", all)).contains("\"event\":\"drain_started\",\"reason\":\"reload\"", "\"reason\":\"stop\"");
            }
        } finally {
            if (client != null) {
                client.abort().block(WAIT);
            }
            p.destroyForcibly();
        }
    }

    private static void signal(Process p, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    private static String await(LinkedBlockingQueue<String> lines, String fragment, List<String> all) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            String l = lines.poll(200, TimeUnit.MILLISECONDS);
            if (l != null && l.contains(fragment)) {
                return l;
            }
        }
        throw new AssertionError("no line with " + fragment + "; output: " + all);
    }
}
