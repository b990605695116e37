package dev.tether.websocket;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket client on a plain socket that misbehaves on purpose: it may never answer pings and
 * may never answer a close frame. It records what the server sent and when it saw the server's FIN.
 */
final class RawClient implements AutoCloseable {

    final Socket socket;
    final List<String> texts = new CopyOnWriteArrayList<>();
    final List<Integer> closeCodes = new CopyOnWriteArrayList<>();
    final CountDownLatch eof = new CountDownLatch(1);
    final CountDownLatch closeFrame = new CountDownLatch(1);
    volatile IOException endedBy;
    private final boolean answerPings;
    private final boolean answerClose;

    RawClient(int port, String path, boolean answerPings, boolean answerClose) throws IOException {
        this(port, path, answerPings, answerClose, null);
    }

    /** The same from a given local address (e.g. 127.0.0.3, to be another client address on loopback). */
    RawClient(int port, String path, boolean answerPings, boolean answerClose, String localAddress) throws IOException {
        this.answerPings = answerPings;
        this.answerClose = answerClose;
        this.socket = localAddress == null ? new Socket(InetAddress.getLoopbackAddress(), port)
                : new Socket(InetAddress.getLoopbackAddress(), port, InetAddress.getByName(localAddress), 0);
        OutputStream out = socket.getOutputStream();
        String key = Base64.getEncoder().encodeToString("tether-raw-client".substring(0, 16).getBytes(StandardCharsets.ISO_8859_1));
        out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = socket.getInputStream();
        String head = readHead(in);
        if (!head.startsWith("HTTP/1.1 101")) {
            socket.close();
            throw new IOException("upgrade refused: " + head.lines().findFirst().orElse(head));
        }
        Thread t = new Thread(this::readLoop, "raw-client");
        t.setDaemon(true);
        t.start();
    }

    int localPort() {
        return socket.getLocalPort();
    }

    private void readLoop() {
        try {
            InputStream in = socket.getInputStream();
            while (true) {
                int b0 = in.read();
                if (b0 < 0) {
                    break;
                }
                int opcode = b0 & 0x0F;
                int b1 = readByte(in);
                int len = b1 & 0x7F;
                if (len == 126) {
                    len = (readByte(in) << 8) | readByte(in);
                } else if (len == 127) {
                    throw new IOException("frame too long for this test client");
                }
                byte[] payload = in.readNBytes(len);
                switch (opcode) {
                    case 1 -> texts.add(new String(payload, StandardCharsets.UTF_8));
                    case 8 -> {
                        closeCodes.add(payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : 1005);
                        closeFrame.countDown();
                        if (answerClose) {
                            send(8, payload.length >= 2 ? new byte[] {payload[0], payload[1]} : new byte[0]);
                        }
                    }
                    case 9 -> {
                        if (answerPings) {
                            send(10, payload);
                        }
                    }
                    default -> { }
                }
            }
        } catch (IOException e) {
            // reset: the end of the stream all the same
            endedBy = e;
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // closed already
        }
        eof.countDown(); // after our close, so a kernel check right after the wait sees no socket of ours
    }

    /** Sends a masked client frame (with a zero mask, which leaves the payload as is). */
    synchronized void send(int opcode, byte[] payload) throws IOException {
        if (socket.isClosed()) {
            throw new IOException("the raw client's socket is closed already (texts " + texts + ", close codes " + closeCodes
                    + ")", endedBy);
        }
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(0x80 | opcode);
        if (payload.length < 126) {
            f.write(0x80 | payload.length);
        } else {
            f.write(0x80 | 126);
            f.write(payload.length >> 8);
            f.write(payload.length & 0xFF);
        }
        f.write(new byte[4]);
        f.write(payload);
        // one stream, one write: the peer may answer and our reader close the socket right after it
        socket.getOutputStream().write(f.toByteArray());
    }

    /** Sends one masked frame with the FIN bit as given (fragments, or any opcode). */
    synchronized void sendFrame(boolean fin, int opcode, byte[] payload) throws IOException {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write((fin ? 0x80 : 0) | opcode);
        if (payload.length < 126) {
            f.write(0x80 | payload.length);
        } else {
            f.write(0x80 | 126);
            f.write(payload.length >> 8);
            f.write(payload.length & 0xFF);
        }
        f.write(new byte[4]);
        f.write(payload);
        // one stream, one write: the peer may answer and our reader close the socket right after it
        socket.getOutputStream().write(f.toByteArray());
    }

    boolean awaitEof(Duration timeout) throws InterruptedException {
        return eof.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = readByte(in);
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static int readByte(InputStream in) throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException();
        }
        return b;
    }
}
