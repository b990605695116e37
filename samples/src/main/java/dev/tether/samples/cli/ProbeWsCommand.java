package dev.tether.samples.cli;

import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.CloseTimer;
import dev.tether.websocket.Heartbeat;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketSession;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * {@code tether probe ws}: connects to a WebSocket endpoint, measures the handshake and a ping
 * round trip, closes with 1000 and reports the close handshake as it really happened.
 */
@Command(name = "ws", mixinStandardHelpOptions = true,
        description = {"Probe a WebSocket endpoint: handshake time, ping round trip, then a 1000 close and what the",
                "peer did with it (answered? closed TCP? which timer had to fire?)."})
final class ProbeWsCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "URI", description = "ws:// or wss:// address, e.g. ws://127.0.0.1:8080/ws")
    String uri;

    @Mixin
    AuthOptions auth;

    @Option(names = "--close-timeout", paramLabel = "D", converter = Durations.class, defaultValue = "3s",
            description = "How long to wait for the peer's close frame (default: ${DEFAULT-VALUE}).")
    Duration closeTimeout;

    @Option(names = "--tcp-close-timeout", paramLabel = "D", converter = Durations.class, defaultValue = "1s",
            description = "After the close handshake, how long to wait for the server to close TCP (default: ${DEFAULT-VALUE}).")
    Duration tcpCloseTimeout;

    @Option(names = "--timeout", paramLabel = "D", converter = Durations.class, defaultValue = "10s",
            description = "Bound on the handshake and the ping (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--json", description = "Print one JSON object instead of the human report.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        Endpoint endpoint;
        try {
            endpoint = Endpoint.of(uri);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        if (!endpoint.scheme().equals("ws") && !endpoint.scheme().equals("wss")) {
            throw new CommandLine.ParameterException(cl, "unknown scheme '" + endpoint.scheme() + "' in " + uri + ": use ws:// or wss://");
        }
        WebSocketClient client = WebSocketClient.builder()
                .handshakeTimeout(timeout)
                .session(s -> s.closeHandshakeTimeout(closeTimeout))
                .tcpCloseWait(tcpCloseTimeout)
                .session(s -> s.heartbeat(Heartbeat.of(Duration.ofMillis(200), timeout)))
                .build();
        ResilientConnection<WebSocketSession> conn = ResilientConnection.builder(client).name("probe-ws")
                .endpoint(endpoint).credentials(auth.provider(cl, true))
                .reconnect(ReconnectPolicy.builder().maxAttempts(1).build()).attemptTimeout(timeout.plusSeconds(1))
                .build();
        AtomicReference<LifecycleEvent.Connecting> connecting = new AtomicReference<>();
        AtomicReference<LifecycleEvent.Connected> connected = new AtomicReference<>();
        Disposable sub = conn.lifecycle().subscribe(e -> {
            if (e instanceof LifecycleEvent.Connecting c) {
                connecting.compareAndSet(null, c);
            } else if (e instanceof LifecycleEvent.Connected c) {
                connected.set(c);
            }
        }, e -> { });
        Map<String, Object> report = Json.object();
        report.put("uri", uri);
        try {
            conn.start();
            WebSocketSession session;
            try {
                session = conn.awaitConnected(timeout.plusSeconds(2)).block();
            } catch (RuntimeException e) {
                report.put("error", "cannot connect to " + uri + ": " + TetherCommand.oneLine(unwrap(e)));
                print(cl.getOut(), report);
                return 1;
            }
            report.put("handshake_ms", Duration.between(connecting.get().timestamp(), connected.get().timestamp()).toMillis());
            Duration rtt = Mono.defer(() -> Mono.justOrEmpty(session.lastRoundTrip()))
                    .repeatWhenEmpty(r -> r.delayElements(Duration.ofMillis(50)))
                    .timeout(timeout, Mono.empty()).block();
            report.put("ping_rtt_ms", rtt == null ? null : rtt.toNanos() / 1_000_000.0);
            // Close through the connection (a 1000 close handshake), so the engine knows the user asked for it.
            conn.close().block(closeTimeout.plus(tcpCloseTimeout).plusSeconds(5));
            CloseSummary summary = session.closed().block(Duration.ofSeconds(1));
            Map<String, Object> close = Json.object();
            if (summary != null) {
                close.put("code_sent", summary.closeFrameSent() ? summary.codeSent() : null);
                close.put("code_received", summary.closeFrameReceived() ? summary.codeReceived() : null);
                close.put("close_handshake_ms", summary.closingTook().toMillis());
                close.put("timer_fired", summary.timerFired(CloseTimer.CLOSE_HANDSHAKE_TIMEOUT) ? "close_handshake"
                        : summary.timerFired(CloseTimer.TCP_CLOSE_WAIT) ? "tcp_close" : "none");
                close.put("tcp_closed_by", summary.tcpClosedBy() == CloseSummary.Side.PEER ? "server" : "client");
                close.put("clean", summary.clean());
            }
            report.put("close", close);
            print(cl.getOut(), report);
            return summary != null && summary.clean() && summary.tcpClosedBy() == CloseSummary.Side.PEER ? 0 : 1;
        } finally {
            conn.abort().onErrorResume(e -> Mono.empty()).block(Duration.ofSeconds(5));
            sub.dispose();
        }
    }

    /** The failure that matters: past Reactor's wrappers and the engine's "closed for good" envelopes. */
    static Throwable unwrap(Throwable e) {
        Throwable t = reactor.core.Exceptions.unwrap(e);
        while (t.getCause() != null && (t instanceof dev.tether.core.ConnectionClosedException
                || t instanceof dev.tether.core.RetriesExhaustedException || t instanceof dev.tether.core.FatalConnectionException)) {
            t = t.getCause();
        }
        return t;
    }

    private void print(PrintWriter out, Map<String, Object> report) {
        if (json) {
            out.println(Json.write(report));
            return;
        }
        out.printf("endpoint      %s%n", report.get("uri"));
        if (report.containsKey("error")) {
            out.println("error         " + report.get("error"));
            return;
        }
        out.printf("handshake     %s ms%n", report.get("handshake_ms"));
        out.printf("ping RTT      %s%n", report.get("ping_rtt_ms") == null ? "no pong" : String.format("%.2f ms", (Double) report.get("ping_rtt_ms")));
        @SuppressWarnings("unchecked")
        Map<String, Object> close = (Map<String, Object>) report.get("close");
        out.printf("close         sent %s, received %s, %s ms, timer fired: %s, TCP closed by the %s, %s%n",
                close.get("code_sent"), close.get("code_received") == null ? "nothing" : close.get("code_received"),
                close.get("close_handshake_ms"), close.get("timer_fired"), close.get("tcp_closed_by"),
                Boolean.TRUE.equals(close.get("clean")) ? "clean" : "NOT clean");
        if ("close_handshake".equals(close.get("timer_fired"))) {
            out.println("verdict       the peer never answered the close frame: it (or a proxy) swallows close frames.");
        } else if ("tcp_close".equals(close.get("timer_fired"))) {
            out.println("verdict       the close handshake completed but the server kept TCP open: a proxy in between"
                    + " does not close its side (RFC 6455 7.1.1 says the server closes first).");
        } else {
            out.println("verdict       a clean close: the peer answered and closed TCP.");
        }
    }
}
