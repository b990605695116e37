package dev.tether.websocket;

import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.reactivestreams.Publisher;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * A well-behaved WebSocket server on plain Reactor Netty (it answers a close frame and closes TCP),
 * whose behaviour per upgrade request can be swapped by a test. Binds 127.0.0.1 on a free port and
 * can be restarted on the same port.
 */
final class NettyServer implements AutoCloseable {

    /** Decides what to do with upgrade number n (1-based). */
    interface Behaviour {
        Publisher<Void> handle(int n, HttpServerRequest req, HttpServerResponse res);
    }

    static final BiFunction<WebsocketInbound, WebsocketOutbound, Publisher<Void>> ECHO =
            (in, out) -> out.sendObject(in.receiveFrames().map(f -> f.retain()));

    final AtomicInteger upgrades = new AtomicInteger();
    private final ChannelGroup live = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private volatile Behaviour behaviour = (n, req, res) -> res.sendWebsocket(ECHO);
    private volatile DisposableServer server;
    private final int port;

    NettyServer() {
        this(0);
    }

    NettyServer(int port) {
        this.server = bind(port);
        this.port = server.port();
    }

    NettyServer behaviour(Behaviour b) {
        this.behaviour = b;
        return this;
    }

    private DisposableServer bind(int p) {
        return HttpServer.create().host("127.0.0.1").port(p)
                .doOnConnection(c -> live.add(c.channel()))
                .handle((req, res) -> behaviour.handle(upgrades.incrementAndGet(), req, res))
                .bindNow(Duration.ofSeconds(10));
    }

    int port() {
        return port;
    }

    String uri() {
        return "ws://127.0.0.1:" + port + "/ws";
    }

    /** Stops like a killed process: the listener and every connection close at once, without close frames. */
    void stop() {
        server.dispose();
        live.close().awaitUninterruptibly(5_000);
        server.onDispose().block(Duration.ofSeconds(5));
    }

    void restart() {
        stop();
        server = bind(port);
    }

    @Override
    public void close() {
        stop();
    }
}
