package dev.tether.core;

import dev.tether.core.spi.EstablishedSession;
import dev.tether.core.spi.Attempt;
import dev.tether.core.spi.Connector;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.LineBasedFrameDecoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.Connection;
import reactor.netty.tcp.TcpClient;

/**
 * A small line-based protocol over real TCP, as a test connector for the engine. The client says
 * {@code HELLO <secret>}; the server answers {@code OK}, {@code DENIED} (credentials refused) or
 * {@code BUSY <ms>} (try later); after that, lines flow both ways, and {@code BYE} is the goodbye
 * after which the server closes TCP.
 */
final class LineConnector implements Connector<LineConnector.LineSession> {

    /** The user-facing session. */
    static final class LineSession {
        private final Connection connection;
        private final Flux<String> lines;

        LineSession(Connection connection, Flux<String> lines) {
            this.connection = connection;
            this.lines = lines;
        }

        Mono<Void> send(String line) {
            return connection.outbound().sendString(Mono.just(line + "\n"), StandardCharsets.UTF_8).then();
        }

        Flux<String> lines() {
            return lines;
        }

        int localPort() {
            return ((java.net.InetSocketAddress) connection.channel().localAddress()).getPort();
        }
    }

    @Override
    public Mono<EstablishedSession<LineSession>> connect(Attempt attempt) {
        return Mono.defer(() -> {
            // Reactor Netty does not always close a socket whose connect is cancelled before it hands
            // the connection over. Hold the channel from the moment it exists: whoever comes second,
            // the cancel or the channel, closes it, so a cancelled attempt never leaks a socket.
            AtomicBoolean cancelled = new AtomicBoolean();
            java.util.concurrent.atomic.AtomicReference<io.netty.channel.Channel> channel = new java.util.concurrent.atomic.AtomicReference<>();
            return TcpClient.create().host(attempt.endpoint().host()).port(attempt.endpoint().port(7))
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2000)
                    .doOnChannelInit((observer, ch, address) -> {
                        channel.set(ch);
                        if (cancelled.get()) {
                            ch.close();
                        }
                    })
                    .connect()
                    .flatMap(conn -> handshake(attempt, conn).doOnError(e -> conn.dispose()))
                    .doOnCancel(() -> {
                        cancelled.set(true);
                        io.netty.channel.Channel ch = channel.get();
                        if (ch != null) {
                            ch.close();
                        }
                    });
        });
    }

    private Mono<EstablishedSession<LineSession>> handshake(Attempt attempt, Connection conn) {
        conn.addHandlerLast("lines", new LineBasedFrameDecoder(8192));
        Sinks.One<String> hello = Sinks.one();
        Sinks.Many<String> lines = Sinks.many().replay().limit(256);
        AtomicBoolean greeted = new AtomicBoolean();
        conn.inbound().receive().asString(StandardCharsets.UTF_8).subscribe(line -> {
            if (greeted.compareAndSet(false, true)) {
                hello.tryEmitValue(line);
            } else {
                lines.tryEmitNext(line);
            }
        }, e -> {
            hello.tryEmitError(e);
            lines.tryEmitComplete();
        }, () -> {
            hello.tryEmitError(new IOException("connection closed during the handshake"));
            lines.tryEmitComplete();
        });
        String secret = attempt.credentials().secret().orElse("");
        return conn.outbound().sendString(Mono.just("HELLO " + secret + "\n"), StandardCharsets.UTF_8).then()
                .then(hello.asMono())
                .flatMap(reply -> {
                    if (reply.startsWith("OK")) {
                        return Mono.just(new Established(attempt, conn, new LineSession(conn, lines.asFlux())));
                    }
                    if (reply.startsWith("DENIED")) {
                        return Mono.error(new ConnectionFailedException("server refused the credentials", Initiator.REMOTE_PEER,
                                401, Verdict.refreshCredentials(), null));
                    }
                    if (reply.startsWith("BUSY")) {
                        long ms = Long.parseLong(reply.substring(5).trim());
                        return Mono.error(new ConnectionFailedException("server busy", Initiator.REMOTE_PEER, 503,
                                Verdict.retryAfter(Duration.ofMillis(ms)), null));
                    }
                    return Mono.error(new ConnectionFailedException("unexpected greeting '" + reply + "'",
                            Initiator.REMOTE_PEER, -1, Verdict.fatal("the server does not speak the line protocol"), null));
                });
    }

    private static final class Established implements EstablishedSession<LineSession> {
        private final Attempt attempt;
        private final Connection conn;
        private final LineSession session;
        private final AtomicBoolean userClose = new AtomicBoolean();

        Established(Attempt attempt, Connection conn, LineSession session) {
            this.attempt = attempt;
            this.conn = conn;
            this.session = session;
        }

        @Override
        public LineSession session() {
            return session;
        }

        @Override
        public Object details() {
            return "line session from port " + session.localPort();
        }

        @Override
        public Mono<SessionEnd> terminated() {
            return conn.onDispose().then(Mono.fromSupplier(() -> userClose.get() ? SessionEnd.byUser()
                    : SessionEnd.byPeer(-1, new IOException("connection closed by the server"))));
        }

        @Override
        public Mono<Void> close(CloseMode mode) {
            userClose.set(true);
            if (mode == CloseMode.ABORT) {
                return Mono.fromRunnable(() -> {
                    conn.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                    conn.dispose();
                }).then(conn.onDispose());
            }
            // Reported as the goodbye is written: the server's FIN may be read before the write's completion is.
            return Mono.fromRunnable(() -> attempt.reportCloseSent(0, "BYE")).then(session.send("BYE"))
                    .then(conn.onDispose())
                    .timeout(Duration.ofSeconds(2), Mono.fromRunnable(conn::dispose).then(conn.onDispose()));
        }
    }
}
