package dev.tether.mqtt.test;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPubReplyMessageVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpServer;

/**
 * A broker for fuzzing the client's decoding path: a raw Reactor Netty TCP server on 127.0.0.1 that
 * answers each CONNECT with a valid MQTT 5 CONNACK followed by the bytes registered for that
 * connection's client id, then keeps the connection open and silent. It never answers SUBSCRIBE.
 * Records, per client id, the packet types and packet ids the client sent.
 */
public final class FuzzBroker implements AutoCloseable {

    /** A valid MQTT 5 CONNACK: accepted, no session, no properties. */
    public static final byte[] CONNACK_V5_OK = FakeBroker.bytes(0x20, 0x03, 0x00, 0x00, 0x00);

    private final Map<String, byte[]> scripts = new ConcurrentHashMap<>();
    private final Map<String, List<String>> sent = new ConcurrentHashMap<>();
    private final DisposableServer server;

    private FuzzBroker() {
        server = TcpServer.create().host("127.0.0.1").port(0)
                .doOnConnection(conn -> {
                    conn.addHandlerLast("decoder", new MqttDecoder());
                    String[] clientId = {"?"};
                    conn.inbound().receiveObject().subscribe(o -> {
                        if (!(o instanceof MqttMessage m) || m.decoderResult().isFailure()) {
                            return;
                        }
                        MqttMessageType type = m.fixedHeader().messageType();
                        if (type == MqttMessageType.CONNECT) {
                            clientId[0] = ((MqttConnectMessage) m).payload().clientIdentifier();
                            byte[] script = scripts.getOrDefault(clientId[0], new byte[0]);
                            conn.channel().writeAndFlush(Unpooled.wrappedBuffer(CONNACK_V5_OK, script));
                        }
                        String entry = type.name();
                        if (m.variableHeader() instanceof MqttPubReplyMessageVariableHeader h) {
                            entry += " " + h.messageId() + " 0x" + Integer.toHexString(h.reasonCode() & 0xFF);
                        } else if (m.variableHeader() instanceof MqttMessageIdVariableHeader h) {
                            entry += " " + h.messageId();
                        }
                        sent.computeIfAbsent(clientId[0], k -> new CopyOnWriteArrayList<>()).add(entry);
                    }, e -> { });
                })
                .handle((in, out) -> Mono.never())
                .bindNow();
    }

    /** @return a running fuzz broker */
    public static FuzzBroker start() {
        return new FuzzBroker();
    }

    /**
     * @param clientId the client id of the connection to script
     * @param bytes    what follows CONNACK on that connection
     */
    public void script(String clientId, byte[] bytes) {
        scripts.put(clientId, bytes.clone());
    }

    /**
     * @param clientId a client id
     * @return what that client sent, one entry per packet: type, then packet id and reason code if any
     */
    public List<String> sentBy(String clientId) {
        return List.copyOf(sent.getOrDefault(clientId, List.of()));
    }

    /** @return {@code tcp://127.0.0.1:port} */
    public String tcpUri() {
        return "tcp://127.0.0.1:" + server.port();
    }

    @Override
    public void close() {
        server.disposeNow();
    }
}
