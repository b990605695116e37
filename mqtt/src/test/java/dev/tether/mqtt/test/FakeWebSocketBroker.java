package dev.tether.mqtt.test;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.NettyPipeline;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.WebsocketServerSpec;

/**
 * A minimal MQTT 5 broker over WebSocket on Reactor Netty that watches the close handshake: it
 * answers CONNECT with CONNACK, records the first byte of every binary frame and every close frame
 * (code and payload length) the client sends, and records when TCP closed. It can withhold its
 * close frame reply to see whether the client still closes TCP.
 */
public final class FakeWebSocketBroker implements AutoCloseable {

    /** One close frame as received. */
    public record CloseFrame(int code, int payloadLength, long nanoTime) {
    }

    private final List<Integer> packetTypes = new CopyOnWriteArrayList<>();
    private final List<String> upgrades = new CopyOnWriteArrayList<>();
    private final List<CloseFrame> closeFrames = new CopyOnWriteArrayList<>();
    private final Sinks.Many<Long> tcpClosed = Sinks.many().replay().all();
    private final AtomicInteger open = new AtomicInteger();
    private final DisposableServer server;
    private final boolean tls;
    private volatile boolean withholdCloseReply;
    private final java.util.Queue<List<byte[]>> afterConnack = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.Set<io.netty.channel.Channel> channels = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private FakeWebSocketBroker(io.netty.handler.ssl.@org.jspecify.annotations.Nullable SslContext ssl) {
        HttpServer http = HttpServer.create().host("127.0.0.1").port(0);
        if (ssl != null) {
            http = http.secure(spec -> spec.sslContext(ssl));
        }
        this.tls = ssl != null;
        server = http
                .handle((req, res) -> {
                    upgrades.add(req.uri() + " authorization=" + req.requestHeaders().get("Authorization"));
                    return res.sendWebsocket((in, out) -> {
                    Sinks.Empty<Void> closed = Sinks.empty();
                    in.withConnection(conn -> {
                        open.incrementAndGet();
                        channels.add(conn.channel());
                        conn.channel().closeFuture().addListener(f -> {
                            open.decrementAndGet();
                            channels.remove(conn.channel());
                            synchronized (tcpClosed) {
                                tcpClosed.tryEmitNext(System.nanoTime());
                            }
                            closed.tryEmitEmpty();
                        });
                        conn.channel().pipeline().addBefore(NettyPipeline.ReactiveBridge, "spy", new Spy());
                    });
                    // A subscribed receiver keeps reads flowing (Reactor Netty stops reading for an idle one).
                    in.receiveFrames().subscribe(f -> { }, e -> { });
                    return closed.asMono();
                }, WebsocketServerSpec.builder().protocols("mqtt").build());
                })
                .bindNow();
    }

    /** @return a running broker */
    public static FakeWebSocketBroker start() {
        return new FakeWebSocketBroker(null);
    }

    /**
     * @param ssl the server's TLS settings
     * @return a running broker speaking WSS
     */
    public static FakeWebSocketBroker startTls(io.netty.handler.ssl.SslContext ssl) {
        return new FakeWebSocketBroker(ssl);
    }

    /** @return {@code ws://127.0.0.1:port/mqtt}, or {@code wss://localhost:port/mqtt} with TLS */
    public String wsUri() {
        return tls ? "wss://localhost:" + server.port() + "/mqtt" : "ws://127.0.0.1:" + server.port() + "/mqtt";
    }

    /** @param on whether to swallow the client's close frame instead of answering it */
    public void withholdCloseReply(boolean on) {
        withholdCloseReply = on;
    }

    /** @return first bytes (MQTT packet type nibble shifted) of the binary frames received */
    public List<Integer> packetTypes() {
        return List.copyOf(packetTypes);
    }

    /** @return each upgrade request as {@code uri authorization=header} */
    public List<String> upgrades() {
        return List.copyOf(upgrades);
    }

    /** @return the close frames received */
    public List<CloseFrame> closeFrames() {
        return List.copyOf(closeFrames);
    }

    /** @return connections open now */
    public int open() {
        return open.get();
    }

    /** @return when each connection's TCP closed, as the server saw it */
    public reactor.core.publisher.Flux<Long> tcpClosed() {
        return tcpClosed.asFlux();
    }

    /**
     * @param frames binary frames to send after a CONNACK, one frame each; each call scripts one more
     *               connection, in order
     */
    public void afterNextConnack(List<byte[]> frames) {
        afterConnack.add(List.copyOf(frames));
    }

    /** Closes every connection from the server side (TCP FIN, no close frame). */
    public void closeAllFromServer() {
        channels.forEach(io.netty.channel.Channel::close);
    }

    @Override
    public void close() {
        server.disposeNow();
    }

    /** Sees frames before Reactor Netty's WebSocket operations do. */
    private final class Spy extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof BinaryWebSocketFrame bin) {
                int type = bin.content().getUnsignedByte(bin.content().readerIndex()) >> 4;
                packetTypes.add(type);
                bin.release();
                if (type == 1) {
                    ctx.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {0x20, 0x03, 0x00, 0x00, 0x00})));
                    List<byte[]> frames = afterConnack.poll();
                    for (byte[] frame : frames == null ? List.<byte[]>of() : frames) {
                        ctx.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(frame)));
                    }
                }
                return;
            }
            if (msg instanceof CloseWebSocketFrame close) {
                closeFrames.add(new CloseFrame(close.statusCode(), close.content().readableBytes(), System.nanoTime()));
                if (withholdCloseReply) {
                    close.release();
                    return;
                }
            }
            ctx.fireChannelRead(msg);
        }
    }
}
