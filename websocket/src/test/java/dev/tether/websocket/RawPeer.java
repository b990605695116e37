package dev.tether.websocket;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket server written on a plain socket that misbehaves on purpose. It answers the HTTP
 * upgrade, then behaves as its {@link Mode} says. Every connection records the frames it received
 * and the moment it saw the client's FIN (read returned end of stream), which is the peer's own
 * proof that the client really closed the socket.
 */
final class RawPeer implements AutoCloseable {

    /** How the peer behaves after the upgrade. */
    enum Mode {
        /** Answers pings; ignores close frames; never closes TCP. */
        NEVER_ANSWERS_CLOSE,
        /** Answers pings; answers a close frame but never closes TCP. */
        ANSWERS_CLOSE_KEEPS_TCP,
        /** Reads but never writes anything: no pong, no close reply. */
        SILENT,
        /** Answers pings and close frames (then closes TCP), but never sends a data message. */
        PONGS_ONLY
    }

    static final int OP_CONT = 0;
    static final int OP_TEXT = 1;
    static final int OP_CLOSE = 8;
    static final int OP_PING = 9;
    static final int OP_PONG = 10;

    private final Mode mode;
    private final ServerSocket server;
    private final Thread acceptor;
    private final BlockingQueue<Conn> connections = new LinkedBlockingQueue<>();
    private final List<Conn> all = new CopyOnWriteArrayList<>();

    RawPeer(Mode mode) throws IOException {
        this.mode = mode;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::acceptLoop, "raw-peer-" + mode);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    String uri() {
        return "ws://127.0.0.1:" + port() + "/raw";
    }

    /** @return the next accepted and upgraded connection */
    Conn nextConnection(Duration timeout) throws InterruptedException {
        Conn c = connections.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (c == null) {
            throw new AssertionError("no connection reached the raw peer within " + timeout);
        }
        return c;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Conn c = new Conn(s);
                all.add(c);
                Thread t = new Thread(c::run, "raw-peer-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Conn c : all) {
            c.dropTcp();
        }
    }

    /** One accepted connection. */
    final class Conn {
        final Socket socket;
        final List<int[]> frames = new CopyOnWriteArrayList<>(); // {opcode, closeCode or -1}
        final CountDownLatch upgraded = new CountDownLatch(1);
        final CountDownLatch closeFrameSeen = new CountDownLatch(1);
        final CountDownLatch eof = new CountDownLatch(1);
        volatile long eofAtNanos;
        volatile long closeFrameAtNanos;
        private final Object writeLock = new Object();

        Conn(Socket socket) {
            this.socket = socket;
        }

        void run() {
            try {
                InputStream in = socket.getInputStream();
                handshake(in, socket.getOutputStream());
                upgraded.countDown();
                connections.add(this);
                while (true) {
                    int b0 = in.read();
                    if (b0 < 0) {
                        break;
                    }
                    int opcode = b0 & 0x0F;
                    int b1 = readByte(in);
                    long len = b1 & 0x7F;
                    if (len == 126) {
                        len = (readByte(in) << 8) | readByte(in);
                    } else if (len == 127) {
                        len = 0;
                        for (int i = 0; i < 8; i++) {
                            len = (len << 8) | readByte(in);
                        }
                    }
                    byte[] mask = (b1 & 0x80) != 0 ? in.readNBytes(4) : null;
                    byte[] payload = in.readNBytes((int) len);
                    if (payload.length < len) {
                        break;
                    }
                    if (mask != null) {
                        for (int i = 0; i < payload.length; i++) {
                            payload[i] ^= mask[i % 4];
                        }
                    }
                    onFrame(opcode, payload);
                }
            } catch (IOException e) {
                // reset or closed: counts as the end of the stream below
            }
            eofAtNanos = System.nanoTime();
            eof.countDown();
            dropTcp();
        }

        private void onFrame(int opcode, byte[] payload) throws IOException {
            int code = opcode == OP_CLOSE && payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1;
            frames.add(new int[] {opcode, code});
            switch (opcode) {
                case OP_PING -> {
                    if (mode != Mode.SILENT) {
                        sendFrame(OP_PONG, payload);
                    }
                }
                case OP_CLOSE -> {
                    closeFrameAtNanos = System.nanoTime();
                    closeFrameSeen.countDown();
                    if (mode == Mode.ANSWERS_CLOSE_KEEPS_TCP || mode == Mode.PONGS_ONLY) {
                        sendFrame(OP_CLOSE, payload.length >= 2 ? new byte[] {payload[0], payload[1]} : new byte[0]);
                    }
                    if (mode == Mode.PONGS_ONLY) {
                        socket.close();
                    }
                }
                default -> { }
            }
        }

        /** Sends an unmasked server frame. */
        void sendFrame(int opcode, byte[] payload) throws IOException {
            synchronized (writeLock) {
                OutputStream out = socket.getOutputStream();
                ByteArrayOutputStream f = new ByteArrayOutputStream();
                f.write(0x80 | opcode);
                if (payload.length < 126) {
                    f.write(payload.length);
                } else {
                    f.write(126);
                    f.write(payload.length >> 8);
                    f.write(payload.length & 0xFF);
                }
                f.write(payload);
                out.write(f.toByteArray());
                out.flush();
            }
        }

        void sendClose(int code, String reason) throws IOException {
            byte[] r = reason.getBytes(StandardCharsets.UTF_8);
            byte[] p = new byte[2 + r.length];
            p[0] = (byte) (code >> 8);
            p[1] = (byte) code;
            System.arraycopy(r, 0, p, 2, r.length);
            sendFrame(OP_CLOSE, p);
        }

        void sendText(String text) throws IOException {
            sendFrame(OP_TEXT, text.getBytes(StandardCharsets.UTF_8));
        }

        /** Closes TCP without a close frame. */
        void dropTcp() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // already closed
            }
        }

        boolean awaitEof(Duration timeout) throws InterruptedException {
            return eof.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        int clientPort() {
            return ((InetSocketAddress) socket.getRemoteSocketAddress()).getPort();
        }

        long count(int opcode) {
            return frames.stream().filter(f -> f[0] == opcode).count();
        }
    }

    private static int readByte(InputStream in) throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException();
        }
        return b;
    }

    private static void handshake(InputStream in, OutputStream out) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = readByte(in);
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String key = null;
        for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("Sec-WebSocket-Key")) {
                key = line.substring(colon + 1).trim();
            }
        }
        if (key == null) {
            throw new IOException("not a WebSocket upgrade");
        }
        String accept;
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            accept = Base64.getEncoder().encodeToString(
                    sha1.digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.ISO_8859_1)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
        out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
                + accept + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }
}
