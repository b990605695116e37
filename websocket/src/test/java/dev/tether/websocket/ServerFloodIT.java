package dev.tether.websocket;

import dev.tether.core.testing.TestAttempt;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Endpoint;
import dev.tether.core.spi.EstablishedSession;
import dev.tether.websocket.internal.CloseHandshakeHandler;
import io.netty.channel.ChannelOption;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * A flood from one address (127.0.0.1): handshakes that never finish, more sessions than allowed,
 * oversized frames and consumers that never read, while well-behaved clients on another address
 * (127.0.0.2) keep receiving broadcasts. Bounded in count and time; the server's registry, pending
 * handshakes and per-session queues are measured and stay within their limits.
 */
class ServerFloodIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int PENDING_LIMIT = 100;
    private static final int PER_ADDRESS = 40;
    private static final long OUTBOUND_BOUND = 1024 * 1024;
    private static final int MESSAGE = 16 * 1024;

    @Test
    void wellBehavedClientsKeepReceivingBroadcastsWhileTheServerShedsAFloodWithinItsLimits() throws Exception {
        WebSocketServer server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws")
                .maxPendingHandshakes(PENDING_LIMIT)
                .handshakeTimeout(Duration.ofMillis(800))
                .maxSessionsPerAddress(PER_ADDRESS)
                .session(s -> s.maxFramePayload(8 * 1024))
                .session(s -> s.maxMessageBytes(32 * 1024))
                .maxOutboundBytes(OUTBOUND_BOUND)
                .session(s -> s.closeHandshakeTimeout(Duration.ofMillis(500)))
                .session(s -> s.heartbeat(Heartbeat.of(Duration.ofSeconds(30), Duration.ofSeconds(10))))
                .httpServer(s -> s.childOption(ChannelOption.SO_SNDBUF, 16 * 1024))
                .build();
        server.start().block(WAIT);
        List<Socket> sockets = new ArrayList<>();
        List<RawClient> raws = new ArrayList<>();
        List<Disposable> subscriptions = new ArrayList<>();
        try {
            long heapBefore = usedHeapAfterGc();
            // four well-behaved clients on 127.0.0.2, counting what they receive and the longest silence
            WebSocketClient goodClient = WebSocketClient.builder()
                    .httpClient(h -> h.bindAddress(() -> new InetSocketAddress("127.0.0.2", 0))).build();
            int good = 4;
            AtomicLong[] counts = new AtomicLong[good];
            AtomicLong[] lastArrival = new AtomicLong[good];
            List<WebSocketSession> goodSessions = new ArrayList<>();
            for (int i = 0; i < good; i++) {
                WebSocketSession s = goodClient.connect(new TestAttempt(Endpoint.of("ws://127.0.0.1:" + server.port() + "/ws")))
                        .map(EstablishedSession::session).block(WAIT);
                goodSessions.add(s);
                AtomicLong c = counts[i] = new AtomicLong();
                AtomicLong last = lastArrival[i] = new AtomicLong(System.nanoTime());
                subscriptions.add(s.receive().subscribe(m -> {
                    c.incrementAndGet();
                    last.set(System.nanoTime());
                }));
            }
            ServerAuthenticationIT.awaitSessions(server, good);
            WebSocketMessage tick = WebSocketMessage.binary(new byte[MESSAGE]);
            List<Long> maxGapMs = new CopyOnWriteArrayList<>();
            AtomicLong maxQueued = new AtomicLong();
            AtomicLong maxSessions = new AtomicLong();
            AtomicLong maxPending = new AtomicLong();
            subscriptions.add(Flux.interval(Duration.ofMillis(20)).onBackpressureDrop().subscribe(i -> {
                server.sessions().broadcast(tick).subscribe();
                long now = System.nanoTime();
                for (AtomicLong l : lastArrival) {
                    maxGapMs.add(Duration.ofNanos(now - l.get()).toMillis());
                }
                for (WebSocketSession s : server.sessions().all()) {
                    maxQueued.accumulateAndGet(((CloseHandshakeHandler) s).pendingOutboundBytes(), Math::max);
                }
                maxSessions.accumulateAndGet(server.stats().sessions(), Math::max);
                maxPending.accumulateAndGet(server.stats().pendingHandshakes(), Math::max);
            }));

            // 2. more sessions from one address than allowed: the rest are refused with 429
            int accepted = 0;
            int refused429 = 0;
            for (int i = 0; i < 2 * PER_ADDRESS; i++) {
                String[] head = new String[1];
                Socket s = RawHttp.upgraded(server.port(), "/ws", "127.0.0.1", 4096, head);
                if (s != null) {
                    accepted++;
                    sockets.add(s); // never reads: each of these is also a slow consumer
                } else if (head[0].startsWith("HTTP/1.1 429")) {
                    refused429++;
                }
            }
            // 3. oversized frames from 127.0.0.3: each connection is closed with 1009
            int oversized = 10;
            for (int i = 0; i < oversized; i++) {
                RawClient r = new RawClient(server.port(), "/ws", true, true, "127.0.0.3");
                raws.add(r);
                r.send(2, new byte[20_000]);
            }
            // 1. handshakes that never finish: silent sockets and half-sent requests, twice the pending limit
            for (int i = 0; i < 2 * PENDING_LIMIT; i++) {
                Socket s = new Socket("127.0.0.1", server.port());
                sockets.add(s);
                if (i % 2 == 1) {
                    try {
                        s.getOutputStream().write("GET /ws HTTP/1.1\r\nHost: flood\r\nUpgr".getBytes(StandardCharsets.ISO_8859_1));
                    } catch (IOException shed) {
                        // closed at once: beyond maxPendingHandshakes
                    }
                }
            }
            for (RawClient r : raws) {
                assertThat(r.awaitEof(WAIT)).isTrue();
                assertThat(r.closeCodes).containsExactly(1009);
            }
            // the flood is shed: the stalled sessions are closed as slow consumers, the silent sockets at the timeout
            Flux.interval(Duration.ofMillis(20)).filter(i -> server.stats().sessions() == good && server.stats().pendingHandshakes() == 0)
                    .next().timeout(Duration.ofSeconds(20), reactor.core.publisher.Mono.error(() -> new AssertionError(
                            "the flood was not shed: " + server.stats() + ", sessions " + server.sessions().all())))
                    .block();
            long before = total(counts);
            Flux.interval(Duration.ofMillis(20)).filter(i -> total(counts) >= before + 4L * good).next().block(WAIT);

            // slots come back as stalled sessions are closed, so more than the limit may be accepted over time, never at once
            assertThat(accepted).isGreaterThanOrEqualTo(PER_ADDRESS);
            assertThat(refused429).isGreaterThan(0);
            assertThat(maxSessions.get()).isLessThanOrEqualTo(good + PER_ADDRESS + oversized);
            assertThat(maxPending.get()).isLessThanOrEqualTo(PENDING_LIMIT);
            assertThat(maxQueued.get()).isLessThanOrEqualTo(OUTBOUND_BOUND + MESSAGE);
            assertThat(server.stats().addresses()).as("only the good clients' address is left").isEqualTo(1);
            for (int i = 0; i < good; i++) {
                assertThat(counts[i].get()).as("good client %d kept receiving", i).isGreaterThan(20);
                assertThat(goodSessions.get(i).state()).isEqualTo(CloseState.OPEN);
            }
            assertThat(maxGapMs.stream().mapToLong(Long::longValue).max().orElse(0)).as("longest silence for a good client, ms")
                    .isLessThan(2_000);
            long heapGrowth = usedHeapAfterGc() - heapBefore;
            assertThat(heapGrowth).as("heap growth after the flood, bytes").isLessThan(64L * 1024 * 1024);
        } finally {
            subscriptions.forEach(Disposable::dispose);
            for (Socket s : sockets) {
                s.close();
            }
            for (RawClient r : raws) {
                r.close();
            }
            server.disposeNow(WAIT);
        }
    }

    private static long total(AtomicLong[] counts) {
        long t = 0;
        for (AtomicLong c : counts) {
            t += c.get();
        }
        return t;
    }

    private static long usedHeapAfterGc() {
        Runtime rt = Runtime.getRuntime();
        System.gc();
        return rt.totalMemory() - rt.freeMemory();
    }
}
