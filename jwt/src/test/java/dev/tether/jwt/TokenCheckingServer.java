package dev.tether.jwt;

import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.netty.handler.codec.LineBasedFrameDecoder;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpServer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A line-protocol server that admits a client only with a valid JWT: the first line must be
 * {@code AUTH <jwt>}; the token is checked with Nimbus (HS256 signature, expiry). It answers
 * {@code OK} and keeps the connection, or {@code DENIED <reason>} and closes it.
 */
final class TokenCheckingServer implements AutoCloseable {

    final List<String> presented = new CopyOnWriteArrayList<>();
    final List<String> accepted = new CopyOnWriteArrayList<>();
    final List<String> refusals = new CopyOnWriteArrayList<>();
    final Set<Connection> live = ConcurrentHashMap.newKeySet();
    final List<Connection> admitted = new CopyOnWriteArrayList<>();
    private final AtomicInteger refuseNext = new AtomicInteger();
    private final byte[] secret;
    private final boolean closeAtExpiry;
    private final DisposableServer server;

    /**
     * @param secret        the HS256 secret tokens must be signed with
     * @param closeAtExpiry whether an admitted session is closed by the server when its token expires
     */
    TokenCheckingServer(byte[] secret, boolean closeAtExpiry) {
        this.secret = secret.clone();
        this.closeAtExpiry = closeAtExpiry;
        this.server = TcpServer.create().host("127.0.0.1").port(0)
                .doOnConnection(c -> c.addHandlerLast(new LineBasedFrameDecoder(16 * 1024)))
                .handle((in, out) -> {
                    Connection[] self = new Connection[1];
                    in.withConnection(c -> self[0] = c);
                    AtomicInteger lines = new AtomicInteger();
                    return in.receive().asString(StandardCharsets.UTF_8)
                            .concatMap(line -> lines.incrementAndGet() > 1 ? Mono.empty() : admit(line, self[0],
                                    answer -> out.sendString(Mono.just(answer + "\n")).then()))
                            .then();
                })
                .bindNow();
    }

    int port() {
        return server.port();
    }

    /** The next {@code n} valid tokens are refused as revoked. */
    void refuseNext(int n) {
        refuseNext.set(n);
    }

    /** Closes every admitted session from the server side. */
    void kickAll() {
        live.forEach(Connection::dispose);
    }

    private Mono<Void> admit(String line, Connection conn, java.util.function.Function<String, Mono<Void>> send) {
        if (!line.startsWith("AUTH ")) {
            return deny("no AUTH line", conn, send);
        }
        String token = line.substring(5).trim();
        presented.add(token);
        JWTClaimsSet claims;
        try {
            SignedJWT jwt = SignedJWT.parse(token);
            if (!jwt.verify(new MACVerifier(secret))) {
                return deny("bad signature", conn, send);
            }
            claims = jwt.getJWTClaimsSet();
        } catch (Exception e) {
            return deny("not a valid JWT", conn, send);
        }
        Instant exp = claims.getExpirationTime() == null ? null : claims.getExpirationTime().toInstant();
        Instant now = Instant.now();
        if (exp == null || !now.isBefore(exp)) {
            return deny("expired", conn, send);
        }
        if (refuseNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            return deny("revoked", conn, send);
        }
        accepted.add(token);
        live.add(conn);
        admitted.add(conn);
        conn.onDispose(() -> live.remove(conn));
        if (closeAtExpiry) {
            Mono.delay(Duration.between(now, exp)).subscribe(x -> conn.dispose());
        }
        return send.apply("OK");
    }

    private Mono<Void> deny(String reason, Connection conn, java.util.function.Function<String, Mono<Void>> send) {
        refusals.add(reason);
        return send.apply("DENIED " + reason).then(Mono.fromRunnable(conn::dispose));
    }

    @Override
    public void close() {
        kickAll();
        server.disposeNow(Duration.ofSeconds(5));
    }
}
