package dev.tether.websocket;

import dev.tether.core.testing.TestAttempt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.Endpoint;
import dev.tether.core.spi.EstablishedSession;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The server's limits, each failing clearly: status and Retry-After for refusals, close codes for sessions. */
class ServerLimitsIT {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private WebSocketServer server;
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (server != null) {
            server.disposeNow(WAIT);
        }
    }

    private void start(WebSocketServer.Builder b) {
        server = b.host("127.0.0.1").port(0).path("/ws").build();
        server.start().block(WAIT);
    }

    private WebSocketSession open() {
        return WebSocketClient.builder().build().connect(new TestAttempt(Endpoint.of("ws://127.0.0.1:" + server.port() + "/ws")))
                .map(EstablishedSession::session).block(WAIT);
    }

    private WebSocketUpgradeException refusal() {
        return WebSocketClient.builder().build().connect(new TestAttempt(Endpoint.of("ws://127.0.0.1:" + server.port() + "/ws")))
                .map(x -> (Throwable) new AssertionError("the upgrade was accepted"))
                .onErrorResume(Mono::just)
                .map(t -> {
                    assertThat(t).isInstanceOf(WebSocketUpgradeException.class);
                    return (WebSocketUpgradeException) t;
                })
                .block(WAIT);
    }


    @Test
    void beyondMaxSessionsUpgradesGet503WithRetryAfterUntilASessionCloses() throws IOException {
        start(WebSocketServer.builder().maxSessions(2).retryAfter(Duration.ofSeconds(7)));
        WebSocketSession a = open();
        open();
        WebSocketUpgradeException e = refusal();
        assertThat(e.status()).isEqualTo(503);
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(7));
        String raw = RawHttp.exchange(server.port(), RawHttp.upgrade(server.port(), "/ws", ""));
        assertThat(raw).startsWith("HTTP/1.1 503").containsIgnoringCase("retry-after: 7").contains("maxSessions");
        a.close(1000, "").block(WAIT);
        ServerAuthenticationIT.awaitSessions(server, 1);
        open().close(1000, "").block(WAIT);
        assertThat(server.stats().refused()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void beyondMaxSessionsPerAddressThatAddressGets429AndOthersAreStillServed() throws IOException {
        start(WebSocketServer.builder().maxSessionsPerAddress(1));
        open();
        WebSocketUpgradeException e = refusal();
        assertThat(e.status()).isEqualTo(429);
        assertThat(e.retryAfter()).contains(WebSocketServer.DEFAULT_RETRY_AFTER);
        String[] head = new String[1];
        Socket other = RawHttp.upgraded(server.port(), "/ws", "127.0.0.2", 0, head);
        assertThat(head[0]).startsWith("HTTP/1.1 101");
        sockets.add(other);
        ServerAuthenticationIT.awaitSessions(server, 2);
        assertThat(server.stats().addresses()).isEqualTo(2);
    }

    @Test
    void theConnectRateLimitAnswers503WithRetryAfterThePeriod() throws IOException {
        start(WebSocketServer.builder().connectRateLimit(2, Duration.ofSeconds(30)));
        open();
        open();
        WebSocketUpgradeException e = refusal();
        assertThat(e.status()).isEqualTo(503);
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(30));
        String raw = RawHttp.exchange(server.port(), RawHttp.upgrade(server.port(), "/ws", ""));
        assertThat(raw).startsWith("HTTP/1.1 503").containsIgnoringCase("retry-after: 30").contains("connect rate limit");
        assertThatThrownBy(() -> WebSocketServer.builder().connectRateLimit(0, Duration.ofSeconds(1)))
                .hasMessageContaining("connectRateLimit").hasMessageContaining("0");
    }

    @Test
    void aClientThatNeverFinishesTheUpgradeIsDisconnectedAtTheHandshakeTimeout() throws IOException {
        start(WebSocketServer.builder().handshakeTimeout(Duration.ofMillis(400)));
        try (Socket silent = new Socket(InetAddress.getLoopbackAddress(), server.port());
             Socket slow = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            silent.setSoTimeout(10_000);
            slow.setSoTimeout(10_000);
            long t0 = System.nanoTime();
            slow.getOutputStream().write("GET /ws HTTP/1.1\r\nHost: x\r\nUpgr".getBytes(StandardCharsets.ISO_8859_1));
            assertThat(silent.getInputStream().read()).isEqualTo(-1);
            InputStream in = slow.getInputStream();
            assertThat(in.readAllBytes()).isEmpty();
            long ms = Duration.ofNanos(System.nanoTime() - t0).toMillis();
            assertThat(ms).isBetween(300L, 5_000L);
        }
        open().close(1000, "").block(WAIT);
        assertThat(server.stats().pendingHandshakes()).isZero();
    }

    @Test
    void beyondMaxPendingHandshakesNewConnectionsAreClosedAtOnceAndEarlierOnesCanStillUpgrade() throws IOException {
        start(WebSocketServer.builder().maxPendingHandshakes(2));
        Socket first = new Socket(InetAddress.getLoopbackAddress(), server.port());
        Socket second = new Socket(InetAddress.getLoopbackAddress(), server.port());
        sockets.add(first);
        sockets.add(second);
        reactor.core.publisher.Flux.interval(Duration.ofMillis(10)).filter(i -> server.stats().pendingHandshakes() == 2).next().block(WAIT);
        try (Socket third = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            third.setSoTimeout(5_000);
            assertThat(third.getInputStream().read()).isEqualTo(-1);
        }
        first.getOutputStream().write(RawHttp.upgrade(server.port(), "/ws", "").getBytes(StandardCharsets.ISO_8859_1));
        first.setSoTimeout(10_000);
        byte[] head = first.getInputStream().readNBytes(12);
        assertThat(new String(head, StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 101");
    }

    @Test
    void aTextMessageThatIsNotUtf8IsClosedWith1007AndThePeerReadsTheCode() throws Exception {
        start(WebSocketServer.builder());
        try (RawClient bad = new RawClient(server.port(), "/ws", true, true)) {
            bad.send(1, new byte[] {'o', 'k', (byte) 0xC0, (byte) 0x80});
            assertThat(bad.awaitEof(WAIT)).isTrue();
            assertThat(bad.closeCodes).containsExactly(1007);
        }
        ServerAuthenticationIT.awaitSessions(server, 0);
    }

    @Test
    void anOversizedFrameAndAnOversizedFragmentedMessageAreClosedWith1009() throws Exception {
        start(WebSocketServer.builder().session(s -> s.maxFramePayload(1024)).session(s -> s.maxMessageBytes(3000)));
        try (RawClient big = new RawClient(server.port(), "/ws", true, true)) {
            big.send(2, new byte[2000]);
            assertThat(big.awaitEof(WAIT)).isTrue();
            assertThat(big.closeCodes).containsExactly(1009);
        }
        try (RawClient fragmented = new RawClient(server.port(), "/ws", true, true)) {
            fragmented.sendFrame(false, 2, new byte[1000]);
            fragmented.sendFrame(false, 0, new byte[1000]);
            fragmented.sendFrame(false, 0, new byte[1000]);
            fragmented.sendFrame(true, 0, new byte[1000]);
            assertThat(fragmented.awaitEof(WAIT)).isTrue();
            assertThat(fragmented.closeCodes).containsExactly(1009);
        }
        ServerAuthenticationIT.awaitSessions(server, 0);
    }

    @Test
    void aSlowConsumerIsClosedOnceItsOutboundQueueExceedsTheBoundWhileOthersKeepReceiving() throws Exception {
        long bound = 256 * 1024;
        start(WebSocketServer.builder().maxOutboundBytes(bound).session(s -> s.closeHandshakeTimeout(Duration.ofMillis(500))));
        List<ServerEvent.SessionClosed> closed = new java.util.concurrent.CopyOnWriteArrayList<>();
        server.events().ofType(ServerEvent.SessionClosed.class).subscribe(closed::add);
        WebSocketSession good = open();
        int n = 300;
        java.util.concurrent.Semaphore arrived = new java.util.concurrent.Semaphore(0);
        Mono<Long> received = good.receive().doOnNext(m -> arrived.release()).take(n).count().cache();
        received.subscribe();
        String[] head = new String[1];
        Socket stalled = RawHttp.upgraded(server.port(), "/ws", "127.0.0.1", 4096, head);
        assertThat(stalled).isNotNull();
        sockets.add(stalled);
        ServerAuthenticationIT.awaitSessions(server, 2);
        WebSocketMessage chunk = WebSocketMessage.binary(new byte[32 * 1024]);
        long maxQueued = 0;
        for (int i = 0; i < n; i++) {
            // the application broadcasts at the pace of its well-behaved client, without waiting for the stalled one
            server.sessions().broadcast(chunk).subscribe();
            assertThat(arrived.tryAcquire(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            for (WebSocketSession s : server.sessions().all()) {
                maxQueued = Math.max(maxQueued, ((dev.tether.websocket.internal.CloseHandshakeHandler) s).pendingOutboundBytes());
            }
        }
        assertThat(received.block(WAIT)).isEqualTo(n);
        ServerAuthenticationIT.awaitSessions(server, 1);
        assertThat(closed).hasSize(1);
        CloseSummary summary = closed.get(0).summary();
        assertThat(summary.initiator()).isEqualTo(dev.tether.core.Initiator.LOCAL_DETECTION);
        assertThat(summary.clean()).isFalse();
        assertThat(maxQueued).isLessThanOrEqualTo(bound + chunk.bytes().length);
        assertThat(good.state()).isEqualTo(CloseState.OPEN);
    }

    @Test
    void aHandlerThatDoesNotReadHoldsAboutOneLargestMessageBeforeReadingPauses() {
        int max = 64 * 1024;
        start(WebSocketServer.builder().session(s -> s.maxMessageBytes(max)).handler(session -> Mono.never()));
        WebSocketSession client = open();
        ServerAuthenticationIT.awaitSessions(server, 1);
        dev.tether.websocket.internal.CloseHandshakeHandler onServer =
                (dev.tether.websocket.internal.CloseHandshakeHandler) server.sessions().all().iterator().next();
        dev.tether.websocket.internal.CloseHandshakeHandler sender = (dev.tether.websocket.internal.CloseHandshakeHandler) client;
        reactor.core.Disposable sending = client.send(reactor.core.publisher.Flux.range(0, 400)
                .map(i -> WebSocketMessage.binary(new byte[32 * 1024]))).subscribe(null, e -> { });
        try {
            // the server stopped reading: what the client writes now backs up on the client's side
            // ... and what the server holds no longer changes (reading has paused) for half a second
            reactor.core.publisher.Flux.interval(Duration.ofMillis(10))
                    .map(i -> sender.pendingOutboundBytes() > 512 * 1024 ? onServer.heldInboundBytes() : -1L)
                    .buffer(50, 1)
                    .filter(w -> w.size() == 50 && w.get(0) >= 0 && w.stream().distinct().count() == 1)
                    .next().block(Duration.ofSeconds(20));
            assertThat(onServer.heldInboundBytes()).isLessThanOrEqualTo(max + 32 * 1024);
        } finally {
            sending.dispose();
            client.abort().block(WAIT);
        }
    }

    @Test
    void limitsValidateAtOnceNamingFieldAndValue() {
        assertThatThrownBy(() -> WebSocketServer.builder().maxSessions(0)).hasMessageContaining("maxSessions").hasMessageContaining("0");
        assertThatThrownBy(() -> WebSocketServer.builder().maxSessionsPerAddress(-1)).hasMessageContaining("maxSessionsPerAddress")
                .hasMessageContaining("-1");
        assertThatThrownBy(() -> WebSocketServer.builder().maxPendingHandshakes(0)).hasMessageContaining("maxPendingHandshakes");
        assertThatThrownBy(() -> WebSocketServer.builder().maxOutboundBytes(0)).hasMessageContaining("maxOutboundBytes");
        assertThatThrownBy(() -> WebSocketServer.builder().handshakeTimeout(Duration.ZERO)).hasMessageContaining("handshakeTimeout");
        assertThatThrownBy(() -> WebSocketServer.builder().retryAfter(Duration.ofSeconds(-1))).hasMessageContaining("retryAfter");
    }
}
