package dev.tether.benchmarks.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * The floor of the reconnect runs: no library at all. One thread with a blocking socket writes a
 * hand-encoded MQTT 5 CONNECT (clean start), reads the CONNACK, then blocks on the socket until the
 * proxy's reset ends it, sleeps the fixed delay and connects again. Whatever this takes beyond the
 * delay is the harness's share (the proxy's two hops, the broker, the JVM's own wake-ups), which no
 * client library can go below. It takes part in the side-by-side reconnect runs only.
 */
final class FloorDriver implements MqttDriver {

    private volatile boolean closed;
    private volatile Socket socket;
    private Thread loop;

    @Override
    public void connect(String host, int port, String clientId, int window) {
        throw new UnsupportedOperationException("the floor driver takes part in the reconnect runs only");
    }

    @Override
    public void connectReconnecting(String host, int port, String clientId, Duration backoff, LongConsumer onLost,
                                    LongConsumer onConnected) throws Exception {
        byte[] connect = connectPacket(clientId);
        open(host, port, connect);
        onConnected.accept(System.nanoTime());
        loop = new Thread(() -> {
            while (!closed) {
                try {
                    awaitEnd();
                } catch (IOException e) {
                    // the reset (or an end of stream): the connection is lost
                }
                if (closed) {
                    return;
                }
                onLost.accept(System.nanoTime());
                // Like the libraries' automatic reconnect: after each failed attempt the same delay, then again.
                boolean back = false;
                while (!back && !closed) {
                    try {
                        Thread.sleep(backoff.toMillis());
                        open(host, port, connect);
                        back = true;
                    } catch (InterruptedException e) {
                        return;
                    } catch (IOException e) {
                        System.err.println("floor: reconnect failed: " + e);
                    }
                }
                if (back) {
                    onConnected.accept(System.nanoTime());
                }
            }
        }, "floor-reconnect");
        loop.setDaemon(true);
        loop.start();
    }

    private void open(String host, int port, byte[] connect) throws IOException {
        socket = handshake(host, port, connect);
    }

    /**
     * Connects a blocking socket, writes {@code connect} and reads an accepting CONNACK.
     *
     * @return the connected socket, read timeout off
     * @throws IOException if the connection fails or the broker does not accept
     */
    static Socket handshake(String host, int port, byte[] connect) throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(host, port), 10_000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(connect);
            out.flush();
            InputStream in = s.getInputStream();
            int type = read(in);
            int remaining = 0;
            for (int shift = 0; ; shift += 7) {
                int b = read(in);
                remaining |= (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    break;
                }
            }
            byte[] body = in.readNBytes(remaining);
            if (type != 0x20 || body.length < 2 || body[1] != 0) {
                throw new IOException("not an accepting CONNACK: type 0x" + Integer.toHexString(type)
                        + (body.length >= 2 ? ", reason 0x" + Integer.toHexString(body[1] & 0xff) : ""));
            }
            s.setSoTimeout(0);
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private void awaitEnd() throws IOException {
        Socket s = socket;
        try (s) {
            InputStream in = s.getInputStream();
            byte[] buffer = new byte[256];
            while (in.read(buffer) >= 0) {
                // an idle client with keepalive off gets nothing; anything that arrives is ignored
            }
        }
    }

    private static int read(InputStream in) throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("the connection ended before CONNACK");
        }
        return b;
    }

    /** MQTT 5 CONNECT: clean start, keepalive 0 (off), no properties, the client id only. */
    static byte[] connectPacket(String clientId) {
        byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        byte[] variable = {0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 0, 0};
        int remaining = variable.length + 2 + id.length;
        if (remaining > 127) {
            throw new IllegalArgumentException("client id too long for the floor driver");
        }
        byte[] packet = new byte[2 + remaining];
        packet[0] = 0x10;
        packet[1] = (byte) remaining;
        System.arraycopy(variable, 0, packet, 2, variable.length);
        packet[2 + variable.length] = (byte) (id.length >> 8);
        packet[3 + variable.length] = (byte) id.length;
        System.arraycopy(id, 0, packet, 4 + variable.length, id.length);
        return packet;
    }

    @Override
    public void subscribe(String topic, int qos, Consumer<byte[]> onMessage) {
        throw new UnsupportedOperationException("the floor driver takes part in the reconnect runs only");
    }

    @Override
    public void publish(String topic, byte[] payload, int qos, Consumer<Throwable> done) {
        throw new UnsupportedOperationException("the floor driver takes part in the reconnect runs only");
    }

    @Override
    public void close() {
        closed = true;
        Socket s = socket;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        if (loop != null) {
            loop.interrupt();
        }
    }
}
