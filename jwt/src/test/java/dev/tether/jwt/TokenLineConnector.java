package dev.tether.jwt;

import dev.tether.core.spi.Attempt;
import dev.tether.core.CloseMode;
import dev.tether.core.ConnectionFailedException;
import dev.tether.core.spi.Connector;
import dev.tether.core.spi.EstablishedSession;
import dev.tether.core.Initiator;
import dev.tether.core.SessionEnd;
import dev.tether.core.Verdict;
import io.netty.handler.codec.LineBasedFrameDecoder;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.Connection;
import reactor.netty.tcp.TcpClient;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A tiny protocol for the tests: connect over TCP, send {@code AUTH <secret>}, expect {@code OK};
 * {@code DENIED ...} is a credentials refusal (refresh, then retry).
 */
final class TokenLineConnector implements Connector<Connection> {

    @Override
    public Mono<EstablishedSession<Connection>> connect(Attempt attempt) {
        String token = attempt.credentials().secret().orElse("");
        return TcpClient.create()
                .host(attempt.endpoint().host())
                .port(attempt.endpoint().port(-1))
                .doOnConnected(c -> c.addHandlerLast(new LineBasedFrameDecoder(16 * 1024)))
                .connect()
                .flatMap(conn -> {
                    Sinks.One<String> answer = Sinks.one();
                    conn.inbound().receive().asString(StandardCharsets.UTF_8).subscribe(
                            answer::tryEmitValue,
                            answer::tryEmitError,
                            () -> answer.tryEmitError(new IOException("the server closed the connection before answering")));
                    return conn.outbound().sendString(Mono.just("AUTH " + token + "\n")).then()
                            .then(answer.asMono())
                            .<EstablishedSession<Connection>>flatMap(line -> line.equals("OK")
                                    ? Mono.just(new LineSession(conn))
                                    : Mono.error(new ConnectionFailedException("the server refused the token: " + line,
                                            Initiator.REMOTE_PEER, 401, Verdict.refreshCredentials(), null)))
                            .doOnError(e -> conn.dispose())
                            .doOnCancel(conn::dispose);
                });
    }

    /** One admitted session; ends when the TCP connection is closed. */
    private static final class LineSession implements EstablishedSession<Connection> {
        private final Connection conn;
        private final AtomicBoolean closedByUser = new AtomicBoolean();
        private final Mono<SessionEnd> terminated;

        LineSession(Connection conn) {
            this.conn = conn;
            this.terminated = conn.onDispose().then(Mono.fromSupplier(() -> closedByUser.get()
                    ? SessionEnd.byUser()
                    : SessionEnd.byPeer(-1, new IOException("the server closed the connection")))).cache();
        }

        @Override
        public Connection session() {
            return conn;
        }

        @Override
        public Object details() {
            return "admitted by " + conn.channel().remoteAddress();
        }

        @Override
        public Mono<SessionEnd> terminated() {
            return terminated;
        }

        @Override
        public Mono<Void> close(CloseMode mode) {
            closedByUser.set(true);
            conn.dispose();
            return conn.onDispose();
        }
    }
}
