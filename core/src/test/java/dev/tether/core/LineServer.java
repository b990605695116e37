package dev.tether.core;

import io.netty.handler.codec.LineBasedFrameDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpServer;

/**
 * The real peer of {@link LineConnector}: a Reactor Netty TCP server on 127.0.0.1 that accepts one
 * secret, refuses others, can say it is busy, drops every connection on demand and counts closes
 * from its own side of the socket.
 */
final class LineServer implements AutoCloseable {

    private final DisposableServer server;
    private final Set<Connection> live = ConcurrentHashMap.newKeySet();
    final AtomicInteger byesReceived = new AtomicInteger();
    final AtomicInteger closedConnections = new AtomicInteger();
    volatile String acceptedSecret;
    volatile long busyMillis;

    LineServer(String acceptedSecret) {
        this.acceptedSecret = acceptedSecret;
        this.server = TcpServer.create().host("127.0.0.1").port(0)
                .doOnConnection(c -> {
                    c.addHandlerLast(new LineBasedFrameDecoder(8192));
                    live.add(c);
                    c.onDispose(() -> {
                        live.remove(c);
                        closedConnections.incrementAndGet();
                    });
                })
                .handle((in, out) -> in.receive().asString(StandardCharsets.UTF_8).concatMap(line -> {
                    Connection c = connectionOf(in);
                    if (line.startsWith("HELLO")) {
                        String secret = line.length() > 6 ? line.substring(6) : "";
                        if (busyMillis > 0) {
                            return out.sendString(Mono.just("BUSY " + busyMillis + "\n")).then();
                        }
                        return out.sendString(Mono.just(secret.equals(this.acceptedSecret) ? "OK\n" : "DENIED\n")).then();
                    }
                    if (line.equals("BYE")) {
                        byesReceived.incrementAndGet();
                        if (c != null) {
                            c.dispose();
                        }
                        return Mono.empty();
                    }
                    return out.sendString(Mono.just("ECHO " + line + "\n")).then();
                }).then())
                .bindNow();
    }

    private Connection connectionOf(Object inbound) {
        return inbound instanceof Connection c ? c : live.stream().filter(x -> x.inbound() == inbound).findFirst().orElse(null);
    }

    int port() {
        return server.port();
    }

    int liveConnections() {
        return live.size();
    }

    void dropAll() {
        live.forEach(Connection::dispose);
    }

    @Override
    public void close() {
        server.disposeNow();
    }
}
