package dev.tether.mqtt.test;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageType;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpServer;

/**
 * A scriptable MQTT broker that misbehaves on purpose: a raw Reactor Netty TCP server on 127.0.0.1
 * that decodes what the client sends and answers CONNECT with whatever bytes the script gives for
 * that connection (nothing, a refusing CONNACK, garbage); SUBSCRIBE and UNSUBSCRIBE get MQTT 5
 * acknowledgements granting everything. Records the packets received and counts
 * connections, open ones included.
 */
public final class FakeBroker implements AutoCloseable {

    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final List<MqttMessage> received = new CopyOnWriteArrayList<>();
    private final Sinks.Many<MqttMessageType> receivedTypes = Sinks.many().replay().all();
    private final DisposableServer server;

    private FakeBroker(IntFunction<byte[]> answerToConnect, io.netty.handler.ssl.@org.jspecify.annotations.Nullable SslContext ssl) {
        TcpServer tcp = TcpServer.create().host("127.0.0.1").port(0);
        if (ssl != null) {
            tcp = tcp.secure(spec -> spec.sslContext(ssl));
        }
        server = tcp
                .doOnConnection(conn -> {
                    int n = accepted.incrementAndGet();
                    open.incrementAndGet();
                    conn.onDispose(open::decrementAndGet);
                    conn.addHandlerLast("decoder", new MqttDecoder());
                    conn.inbound().receiveObject().subscribe(o -> {
                        if (o instanceof MqttMessage m) {
                            received.add(m);
                            synchronized (receivedTypes) {
                                receivedTypes.tryEmitNext(m.fixedHeader().messageType());
                            }
                            if (m.variableHeader() instanceof io.netty.handler.codec.mqtt.MqttMessageIdAndPropertiesVariableHeader h) {
                                int id = h.messageId();
                                if (m instanceof io.netty.handler.codec.mqtt.MqttSubscribeMessage sub) {
                                    int n2 = sub.payload().topicSubscriptions().size();
                                    byte[] ack = new byte[5 + n2];
                                    ack[0] = (byte) 0x90;
                                    ack[1] = (byte) (3 + n2);
                                    ack[2] = (byte) (id >> 8);
                                    ack[3] = (byte) id;
                                    conn.channel().writeAndFlush(Unpooled.wrappedBuffer(ack));
                                } else if (m instanceof io.netty.handler.codec.mqtt.MqttUnsubscribeMessage unsub) {
                                    int n2 = unsub.payload().topics().size();
                                    byte[] ack = new byte[5 + n2];
                                    ack[0] = (byte) 0xB0;
                                    ack[1] = (byte) (3 + n2);
                                    ack[2] = (byte) (id >> 8);
                                    ack[3] = (byte) id;
                                    conn.channel().writeAndFlush(Unpooled.wrappedBuffer(ack));
                                }
                            }
                            if (m.fixedHeader().messageType() == MqttMessageType.CONNECT) {
                                byte[] answer = answerToConnect.apply(n);
                                if (answer == CLOSE) {
                                    conn.channel().close();
                                } else if (answer.length > 0) {
                                    conn.channel().writeAndFlush(Unpooled.wrappedBuffer(answer));
                                }
                            }
                        }
                        // Reactor Netty releases the message after this consumer returns.
                    }, e -> { });
                })
                .handle((in, out) -> Mono.never())
                .bindNow();
    }

    /** Answer to a CONNECT that closes the connection at once, without a byte (compared by identity). */
    public static final byte[] CLOSE = new byte[0];

    /**
     * @param answerToConnect the bytes to write after the n-th connection's CONNECT (1-based); empty for silence,
     *                        {@link #CLOSE} to close the connection
     * @return a running fake broker
     */
    public static FakeBroker start(IntFunction<byte[]> answerToConnect) {
        return new FakeBroker(answerToConnect, null);
    }

    /**
     * @param ssl             the server's TLS settings
     * @param answerToConnect as for {@link #start(IntFunction)}
     * @return a running fake broker speaking TLS
     */
    public static FakeBroker startTls(io.netty.handler.ssl.SslContext ssl, IntFunction<byte[]> answerToConnect) {
        return new FakeBroker(answerToConnect, ssl);
    }

    /** @return {@code tcp://127.0.0.1:port} */
    public String tcpUri() {
        return "tcp://127.0.0.1:" + server.port();
    }

    /** @return the port */
    public int port() {
        return server.port();
    }

    /** @return connections accepted so far */
    public int accepted() {
        return accepted.get();
    }

    /** @return connections open now, as the server sees them */
    public int open() {
        return open.get();
    }

    /** @return the packets received from clients, in order */
    public List<MqttMessage> received() {
        return List.copyOf(received);
    }

    /** @return the types of packets received, replayed to each subscriber */
    public reactor.core.publisher.Flux<MqttMessageType> receivedTypes() {
        return receivedTypes.asFlux();
    }

    /**
     * @param bytes unsigned byte values
     * @return them as a byte array
     */
    public static byte[] bytes(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return b;
    }

    /**
     * @param parts byte arrays
     * @return them one after the other
     */
    public static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int i = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, i, p.length);
            i += p.length;
        }
        return out;
    }

    @Override
    public void close() {
        server.disposeNow();
    }
}
