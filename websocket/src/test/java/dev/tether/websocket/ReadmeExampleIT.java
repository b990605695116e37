package dev.tether.websocket;

import dev.tether.websocket.onebot.OneBotAnnouncer;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.OverflowPolicy;
import dev.tether.core.ResilientConnection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The documentation's client and server examples, run against each other. */
class ReadmeExampleIT {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void documentedClientAgainstDocumentedServer() {
        WebSocketServer server = WebSocketServer.builder()
                .host("127.0.0.1").port(0).path("/onebot/v11/ws")
                .announcer(OneBotAnnouncer.builder(10001L).build())
                .drainTimeout(Duration.ofSeconds(5))
                .handler(session -> session.receive().flatMap(m -> session.sendText("re:" + m.text())).then())
                .build();
        server.start().block(WAIT);
        CredentialsProvider tokens = request -> Mono.just(Credentials.token("example-token"));
        List<LifecycleEvent> printed = new CopyOnWriteArrayList<>();
        List<String> received = new CopyOnWriteArrayList<>();
        try {
            WebSocketClient client = WebSocketClient.builder()
                    .session(s -> s
                            .heartbeat(Heartbeat.of(Duration.ofSeconds(15), Duration.ofSeconds(5)))
                            .closeHandshakeTimeout(Duration.ofSeconds(2)))
                    .tcpCloseWait(Duration.ofMillis(500))
                    .build();
            ResilientConnection<WebSocketSession> conn = ResilientConnection.builder(client)
                    .endpoint(Endpoint.of("ws://127.0.0.1:" + server.port() + "/onebot/v11/ws"))
                    .credentials(tokens)
                    .build();
            conn.lifecycle().subscribe(printed::add);
            ResilientWebSocket ws = ResilientWebSocket.buffered(conn, 1_000, OverflowPolicy.DROP_OLDEST);
            ws.receive().subscribe(m -> received.add(m.text()));
            conn.start();
            ws.sendText("hello").block(WAIT);
            reactor.core.publisher.Flux.interval(Duration.ofMillis(5)).filter(i -> received.contains("re:hello")).next().block(WAIT);
            conn.close().block(WAIT);

            assertThat(received.get(0)).contains("\"sub_type\":\"connect\"");
            assertThat(printed.stream().map(e -> e.getClass().getSimpleName()).toList())
                    .containsSubsequence("Connected", "CloseRequested", "CloseSent", "CloseReceived", "Notice", "Disconnected", "Closed");
            LifecycleEvent.Notice notice = printed.stream().filter(e -> e instanceof LifecycleEvent.Notice)
                    .map(LifecycleEvent.Notice.class::cast).reduce((a, b) -> b).orElseThrow();
            CloseSummary summary = (CloseSummary) notice.details();
            assertThat(summary.clean()).isTrue();
            assertThat(summary.tcpClosedBy()).isEqualTo(CloseSummary.Side.PEER);
            assertThat(summary.timersFired()).isEmpty();
            assertThat(printed.toString()).doesNotContain("example-token");
        } finally {
            server.disposeNow(WAIT);
        }
    }
}
