package dev.tether.mqtt.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnAckVariableHeader;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttQoS;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * Cuts the inbound byte stream into whole MQTT packets before Netty's MQTT decoder sees them, so that
 * untrusted bytes are bounded three ways:
 * <ul>
 *   <li>a packet larger than the client's maximum packet size is refused as soon as its fixed header
 *       says so, before any of its body is buffered (reason code 0x95);</li>
 *   <li>a packet that starts but does not complete within the incomplete-packet timeout is a
 *       protocol error (0x81) instead of a wait until keepalive notices;</li>
 *   <li>a whole packet the decoder cannot finish (its internal lengths run past the remaining length
 *       it announced) is a protocol error at once (0x81), because the decoder would otherwise wait for
 *       bytes that belong to the next packet.</li>
 * </ul>
 * Failures travel up the pipeline as a {@link FramingException}; after one, input is discarded.
 *
 * <p>The connection's first packet, when it is a CONNACK of remaining length 2, is read here as an MQTT 3.1.1
 * CONNACK ({@link ShortConnack}) and never reaches the decoder: an MQTT 5 CONNACK always has a Property Length,
 * so a two-byte one is a broker that does not speak MQTT 5 answering in its own version, whatever version the
 * CONNECT asked for. Netty's decoder, switched to MQTT 5 by the encoder when it wrote an MQTT 5 CONNECT, would
 * take it for a malformed MQTT 5 CONNACK. An MQTT 5 CONNACK is read here too ({@link #readConnack}), into the message
 * Netty's decoder would have made, so a new connection needs no decoder: the framer starts without one and adds it
 * when a packet it does not read arrives (an AUTH or a DISCONNECT before CONNACK, bytes that are no MQTT). A PUBACK, PUBREC, PUBREL or PUBCOMP that carries its packet id alone is
 * read here too ({@link Reply}), and once the session is established in MQTT 5 one with a reason code and no
 * properties: it is most of what a publishing client receives. Once the session is established,
 * so is a PUBLISH in its common form ({@link InboundPublish}, see {@link #readPublishes}): one array for the
 * payload and one string for the topic instead of Netty's message objects, slices and character buffers. The first bytes received are kept (up to {@value #FIRST_BYTES}) so a
 * failure before CONNACK can say what arrived.
 *
 * Runs on the channel's event loop; the timer is scheduled on the attempt's scheduler (virtual time
 * in tests) and hops back to the event loop.
 */
final class PacketFramer extends ByteToMessageDecoder {

    /**
     * The name of Netty's MQTT decoder, placed right after the framer when a packet it does not read itself arrives (a
     * SUBACK, a PUBLISH with properties, a DISCONNECT...). A connection starts without one (the framer reads CONNACK),
     * and once the session is established the framer takes it out again: an idle client, which receives only
     * PINGRESPs, keeps no decoder.
     */
    static final String DECODER = "tether.mqtt.decoder";

    private final int maxPacketSize;
    private final Duration incompleteTimeout;
    private final Scheduler scheduler;
    /** Packets the MQTT decoder produced, whole or failed, as counted by the handler after it ({@link #decoded()}). */
    private long decoded;
    private long framesForwarded;
    /** The framer's context, once added. */
    private @Nullable ChannelHandlerContext context;
    /**
     * Whether the pipeline may have no MQTT decoder after the framer: at first (none was added with it) and after the
     * framer took the one named {@link #DECODER} out (see {@link #readPublishes}).
     */
    private boolean decoderRemoved = true;
    private long timerFrames = -1;
    private @Nullable Disposable timer;
    private int expectedSize = -1;
    private int expectedType = -1;
    private boolean failed;
    /** 0: every PUBLISH goes to the decoder; 4 or 5: the common ones are read here, in MQTT 3.1.1 or 5. */
    private int publishes;
    /** The topic name of the last PUBLISH read here (printable ASCII), and its Subscription Identifier list if it had one. */
    private @Nullable String lastTopic;
    private byte @Nullable [] topicScratch;
    private List<Integer> lastIdentifiers = List.of();
    /**
     * The reply passed on for every PUBACK, PUBREC, PUBREL and PUBCOMP read here (see {@link Reply}); made at the first
     * one (a client that never publishes with QoS 1 or 2 holds none).
     */
    private @Nullable Reply reply;
    /** The type and remaining length of the last packet passed on, for messages. */
    private int lastFrameType = -1;
    private int lastFrameRemaining = -1;
    /** A failure found while cutting, passed on after the packets cut before it. */
    private int pendingCode;
    private @Nullable String pendingMessage;

    /** How many of the first bytes received are kept for messages. */
    static final int FIRST_BYTES = 16;
    /** Let go once the session is established ({@link #readPublishes}): only failures before CONNACK quote them. */
    private byte @Nullable [] firstBytes = new byte[FIRST_BYTES];
    private int firstBytesKept;
    private long bytesReceived;

    PacketFramer(int maxPacketSize, Duration incompleteTimeout, Scheduler scheduler) {
        this.maxPacketSize = maxPacketSize;
        this.incompleteTimeout = incompleteTimeout;
        this.scheduler = scheduler;
    }

    /**
     * Counts one packet the MQTT decoder produced (whole or failed). The connection's handler calls it for every
     * message it reads, so that no handler context of its own is needed for the count.
     */
    void decoded() {
        decoded++;
    }

    /** @return a handler that counts the packets decoded, for a pipeline without the connection's handler */
    ChannelInboundHandlerAdapter tally() {
        return new Tally(this);
    }

    /** @return how many bytes the broker sent on this connection so far */
    long bytesReceived() {
        return bytesReceived;
    }

    /** @return the first bytes the broker sent on this connection (at most {@value #FIRST_BYTES}) in hex, or "nothing" */
    String firstBytesHex() {
        byte[] first = firstBytes;
        if (first == null) {
            return "(not kept once the session is established; " + bytesReceived + " bytes)";
        }
        if (firstBytesKept == 0) {
            return "nothing";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < firstBytesKept; i++) {
            if (i > 0) {
                b.append(' ');
            }
            b.append(String.format("%02x", first[i] & 0xFF));
        }
        if (bytesReceived > firstBytesKept) {
            b.append(" ... (").append(bytesReceived).append(" bytes)");
        }
        return b.toString();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf buf) {
            int n = buf.readableBytes();
            int keep = Math.min(n, FIRST_BYTES - firstBytesKept);
            byte[] first = firstBytes;
            if (keep > 0 && first != null) {
                buf.getBytes(buf.readerIndex(), first, firstBytesKept, keep);
                firstBytesKept += keep;
            }
            bytesReceived += n;
        }
        super.channelRead(ctx, msg);
        // Packets cut before a failure have been passed on by now: the failure comes after them.
        if (!failed) {
            checkLastFrameDecoded();
        }
        if (failed) {
            cancelTimer();
            firePendingFailure(ctx);
            return;
        }
        watchIncomplete(ctx);
    }

    private void checkLastFrameDecoded() {
        if (decoded < framesForwarded) {
            failLater(0x81, "the broker sent a " + typeName(lastFrameType) + " packet whose fields run past its "
                    + "remaining length of " + lastFrameRemaining + " bytes (a length inside the packet disagrees "
                    + "with its fixed header)");
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!failed) {
            // The packet passed on by the previous call must have been decoded whole by now.
            checkLastFrameDecoded();
        }
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        int start = in.readerIndex();
        int available = in.readableBytes();
        int type = (in.getUnsignedByte(start) >> 4) & 0x0F;
        int remaining = 0;
        int multiplier = 1;
        int headerLength = 1;
        boolean complete = false;
        for (int i = 1; i <= 4; i++) {
            if (available < 1 + i) {
                break;
            }
            int b = in.getUnsignedByte(start + i);
            remaining += (b & 0x7F) * multiplier;
            multiplier *= 128;
            headerLength = 1 + i;
            if ((b & 0x80) == 0) {
                complete = true;
                break;
            }
            if (i == 4) {
                in.skipBytes(in.readableBytes());
                failLater(0x81, "the broker sent a " + typeName(type) + " packet whose remaining length takes more "
                        + "than 4 bytes (malformed fixed header)");
                return;
            }
        }
        if (!complete) {
            expectedSize = -1;
            expectedType = type;
            return;
        }
        long total = (long) headerLength + remaining;
        if (total > maxPacketSize) {
            in.skipBytes(in.readableBytes());
            failLater(0x95, "the broker sent a " + typeName(type) + " packet of " + total + " bytes, larger than "
                    + "the client's maximum packet size of " + maxPacketSize + " bytes (maxPacketSize)");
            return;
        }
        if (available < total) {
            expectedSize = (int) total;
            expectedType = type;
            return;
        }
        expectedSize = -1;
        expectedType = -1;
        lastFrameType = type;
        lastFrameRemaining = remaining;
        if (framesForwarded == 0 && type == 2 && remaining == 2) {
            // The first packet, a CONNACK without Property Length: MQTT 3.1.1, whatever the CONNECT asked for.
            int flags = in.getUnsignedByte(start + headerLength);
            int code = in.getUnsignedByte(start + headerLength + 1);
            in.skipBytes((int) total);
            framesForwarded++;
            out.add(new ShortConnack((flags & 0x01) != 0, flags, code));
            return;
        }
        int first = in.getUnsignedByte(start);
        if (first == 0x20 && remaining > 2) {
            MqttConnAckMessage ack = readConnack(ctx, in, start + headerLength, start + (int) total, remaining);
            if (ack != null) {
                in.skipBytes((int) total);
                framesForwarded++;
                out.add(ack);
                return;
            }
        }
        if ((first == 0x40 || first == 0x50 || first == 0x62 || first == 0x70) && (remaining == 2 || (publishes == 5
                && (remaining == 3 || (remaining == 4 && in.getUnsignedByte(start + headerLength + 3) == 0))))) {
            // PUBACK, PUBREC, PUBREL or PUBCOMP with its packet id alone (the same in MQTT 3.1.1 and 5) or, in MQTT 5,
            // with a reason code and no properties: read here, one small object instead of Netty's four, for every
            // QoS 1 publish.
            int id = in.getUnsignedShort(start + headerLength);
            int reasonCode = remaining > 2 ? in.getUnsignedByte(start + headerLength + 2) : 0;
            in.skipBytes((int) total);
            framesForwarded++;
            // The framer's one Reply, refilled: it is passed on (and read) before the next packet is cut.
            Reply r = reply;
            if (r == null) {
                r = new Reply();
                reply = r;
            }
            out.add(r.set(type, id, reasonCode));
            return;
        }
        if (first == 0xD0 && remaining == 0 && publishes != 0) {
            // PINGRESP, all an idle client receives: Netty's shared instance, as its decoder would make one.
            in.skipBytes((int) total);
            framesForwarded++;
            out.add(io.netty.handler.codec.mqtt.MqttMessage.PINGRESP);
            return;
        }
        if (type == 3 && publishes != 0) {
            InboundPublish p = readPublish(in, first, start + headerLength, start + (int) total);
            if (p != null) {
                in.skipBytes((int) total);
                framesForwarded++;
                out.add(p);
                return;
            }
        }
        if (decoderRemoved) {
            decoderRemoved = false;
            // A pipeline built with its own decoder (tests) keeps it.
            if (ctx.pipeline().get(MqttDecoder.class) == null) {
                ctx.pipeline().addAfter(ctx.name(), DECODER, new MqttDecoder(maxPacketSize));
            }
        }
        framesForwarded++;
        // One packet per call: it is passed on and decoded before the next one is cut.
        out.add(in.readRetainedSlice((int) total));
    }

    /**
     * From now on, a PUBLISH in its common form is read here (the connection's version is known: CONNACK
     * accepted it). Called on the event loop.
     *
     * @param v5 whether MQTT 5 is spoken (a PUBLISH has a Property Length)
     */
    void readPublishes(boolean v5) {
        publishes = v5 ? 5 : 4;
        firstBytes = null;
        ChannelHandlerContext ctx = context;
        // Mostly there is none: the framer read the CONNACK and nothing before it needed the decoder.
        if (ctx != null && (!decoderRemoved || ctx.pipeline().get(DECODER) != null)) {
            // After the read in progress (the decoder may be passing the CONNACK on right now): it is idle then.
            ctx.executor().execute(() -> {
                if (!ctx.isRemoved() && ctx.pipeline().get(DECODER) != null) {
                    ctx.pipeline().remove(DECODER);
                    decoderRemoved = true;
                }
            });
        }
    }

    /**
     * An MQTT 5 CONNACK (remaining length above 2, the connection's CONNECT in MQTT 5) read without Netty's decoder,
     * into the message it would have made: the same fixed header, the return code, the Session Present bit (the other
     * flag bits are not looked at, as there) and a new {@link MqttProperties} of the same property classes, user
     * properties in their order. Whatever the decoder would read differently, or fail on, is left to it, which then
     * reads it or says what is wrong with it as before: a reason code Netty does not know, a Property Length that
     * is not the shortest encoding or does not end exactly at the end of the packet, a property a CONNACK does not
     * carry (or an unknown one), one that appears twice where only user properties may, lengths running past the
     * properties, a string that is not well-formed UTF-8 or holds U+0000, and a last property the decoder would not
     * reach (it counts the Property Length's own bytes against the length, so it stops early when the length takes
     * more bytes than that property).
     *
     * @param from      the index of the acknowledge flags
     * @param end       the index after the packet
     * @param remaining the packet's remaining length
     * @return the CONNACK, or null to let the decoder read it
     */
    private static @Nullable MqttConnAckMessage readConnack(ChannelHandlerContext ctx, ByteBuf in, int from, int end,
                                                           int remaining) {
        if (ctx.channel().attr(ConnectPackets.DECODER_VERSION).get() != io.netty.handler.codec.mqtt.MqttVersion.MQTT_5) {
            return null; // the decoder reads it in MQTT 3.1.1 (or 3.1), and says what is wrong with the rest
        }
        int flags = in.getUnsignedByte(from);
        MqttConnectReturnCode code = returnCode(in.getByte(from + 1));
        if (code == null) {
            return null;
        }
        int p = from + 2;
        long length = readVarInt(in, p, end);
        if (length < 0) {
            return null;
        }
        int lengthSize = varIntSize(length);
        p += lengthSize;
        int propertiesStart = p;
        if (end - p != length) {
            return null;
        }
        MqttProperties props = new MqttProperties();
        long seen = 0;
        while (p < end) {
            if (lengthSize + (p - propertiesStart) >= length) {
                return null; // where the decoder stops (see above)
            }
            int id = in.getUnsignedByte(p++);
            if (id > MqttProperties.SHARED_SUBSCRIPTION_AVAILABLE) {
                return null;
            }
            if (id != MqttProperties.USER_PROPERTY) {
                if ((seen & (1L << id)) != 0) {
                    return null;
                }
                seen |= 1L << id;
            }
            switch (id) {
                case MqttProperties.MAXIMUM_QOS, MqttProperties.RETAIN_AVAILABLE,
                        MqttProperties.WILDCARD_SUBSCRIPTION_AVAILABLE, MqttProperties.SUBSCRIPTION_IDENTIFIER_AVAILABLE,
                        MqttProperties.SHARED_SUBSCRIPTION_AVAILABLE -> {
                    if (end - p < 1) {
                        return null;
                    }
                    props.add(new MqttProperties.IntegerProperty(id, (int) in.getUnsignedByte(p)));
                    p += 1;
                }
                case MqttProperties.RECEIVE_MAXIMUM, MqttProperties.TOPIC_ALIAS_MAXIMUM, MqttProperties.SERVER_KEEP_ALIVE -> {
                    if (end - p < 2) {
                        return null;
                    }
                    props.add(new MqttProperties.IntegerProperty(id, in.getUnsignedShort(p)));
                    p += 2;
                }
                case MqttProperties.SESSION_EXPIRY_INTERVAL, MqttProperties.MAXIMUM_PACKET_SIZE -> {
                    if (end - p < 4) {
                        return null;
                    }
                    props.add(new MqttProperties.IntegerProperty(id, in.getInt(p)));
                    p += 4;
                }
                case MqttProperties.ASSIGNED_CLIENT_IDENTIFIER, MqttProperties.REASON_STRING,
                        MqttProperties.RESPONSE_INFORMATION, MqttProperties.SERVER_REFERENCE,
                        MqttProperties.AUTHENTICATION_METHOD -> {
                    String value = readString(in, p, end);
                    if (value == null) {
                        return null;
                    }
                    p += 2 + in.getUnsignedShort(p);
                    props.add(new MqttProperties.StringProperty(id, value));
                }
                case MqttProperties.USER_PROPERTY -> {
                    String key = readString(in, p, end);
                    if (key == null) {
                        return null;
                    }
                    p += 2 + in.getUnsignedShort(p);
                    String value = readString(in, p, end);
                    if (value == null) {
                        return null;
                    }
                    p += 2 + in.getUnsignedShort(p);
                    props.add(new MqttProperties.UserProperty(key, value));
                }
                case MqttProperties.AUTHENTICATION_DATA -> {
                    if (end - p < 2 || end - p - 2 < in.getUnsignedShort(p)) {
                        return null;
                    }
                    byte[] data = new byte[in.getUnsignedShort(p)];
                    in.getBytes(p + 2, data);
                    p += 2 + data.length;
                    props.add(new MqttProperties.BinaryProperty(id, data));
                }
                default -> {
                    return null; // not a CONNACK property
                }
            }
        }
        MqttFixedHeader header = new MqttFixedHeader(MqttMessageType.CONNACK, false, MqttQoS.AT_MOST_ONCE, false, remaining);
        return new MqttConnAckMessage(header, new MqttConnAckVariableHeader(code, (flags & 0x01) != 0, props));
    }

    /** @return Netty's return code for the byte, or null if it knows none */
    private static @Nullable MqttConnectReturnCode returnCode(byte b) {
        try {
            return MqttConnectReturnCode.valueOf(b);
        } catch (IllegalArgumentException unknown) {
            return null;
        }
    }

    /**
     * @return the UTF-8 string whose two-byte length is at the index, or null if it runs past the end, is not
     *         well-formed UTF-8 or holds U+0000 (MQTT 5 1.5.4, which Netty's decoder checks)
     */
    private static @Nullable String readString(ByteBuf in, int at, int end) {
        if (end - at < 2) {
            return null;
        }
        int length = in.getUnsignedShort(at);
        if (end - at - 2 < length) {
            return null;
        }
        // Decoding replaces each malformed sequence with U+FFFD: one found here (even one the broker sent as such)
        // leaves the packet to the decoder, whose strict reading then accepts or refuses it.
        String s = in.toString(at + 2, length, StandardCharsets.UTF_8);
        return s.indexOf(0xFFFD) >= 0 || s.indexOf(0) >= 0 ? null : s;
    }

    /**
     * A PUBLISH read without Netty's decoder when it has the common form: QoS 0 to 2 (DUP only with QoS 1 or 2), a
     * non-empty topic name of printable ASCII without wildcards, a packet id other than 0 for QoS 1 and 2, and no
     * MQTT 5 property other than Subscription Identifiers. Anything else (and anything malformed) is left to the
     * decoder, which says what is wrong with it as before.
     *
     * @return the publish, or null to let the decoder read it
     */
    private @Nullable InboundPublish readPublish(ByteBuf in, int first, int from, int end) {
        int qos = (first >> 1) & 0x03;
        boolean dup = (first & 0x08) != 0;
        if (qos == 3 || (dup && qos == 0)) {
            return null;
        }
        int p = from;
        if (end - p < 2) {
            return null;
        }
        int topicLength = in.getUnsignedShort(p);
        p += 2;
        if (topicLength == 0 || end - p < topicLength) {
            return null;
        }
        // The topic's bytes are copied out once and checked and compared there, not read byte by byte from the buffer.
        byte[] topicBytes = topicBytes(topicLength);
        in.getBytes(p, topicBytes, 0, topicLength);
        for (int i = 0; i < topicLength; i++) {
            int c = topicBytes[i];
            if (c < 0x20 || c > 0x7E || c == '+' || c == '#') {
                return null;
            }
        }
        p += topicLength;
        int packetId = 0;
        if (qos > 0) {
            if (end - p < 2) {
                return null;
            }
            packetId = in.getUnsignedShort(p);
            p += 2;
            if (packetId == 0) {
                return null;
            }
        }
        List<Integer> identifiers = List.of();
        if (publishes == 5) {
            long propertiesLength = readVarInt(in, p, end);
            if (propertiesLength < 0) {
                return null;
            }
            p += varIntSize(propertiesLength);
            int propertiesEnd = p + (int) propertiesLength;
            if (propertiesEnd > end) {
                return null;
            }
            while (p < propertiesEnd) {
                if (in.getUnsignedByte(p) != 0x0B) {
                    return null; // another property: the decoder reads it
                }
                p++;
                long id = readVarInt(in, p, propertiesEnd);
                if (id <= 0) {
                    return null;
                }
                p += varIntSize(id);
                identifiers = identifiers.isEmpty() ? one((int) id) : plus(identifiers, (int) id);
            }
        }
        String topic = topic(topicBytes, topicLength);
        byte[] payload = new byte[end - p];
        in.getBytes(p, payload);
        return new InboundPublish(topic, qos, (first & 0x01) != 0, packetId, payload, identifiers);
    }

    /**
     * @return the topic name at the index: the previous publish's string when the bytes are the same (a subscriber
     *         mostly receives a few topics over and over), else a new one
     */
    private String topic(byte[] bytes, int length) {
        String last = lastTopic;
        if (last != null && last.length() == length) {
            int i = 0;
            while (i < length && bytes[i] == last.charAt(i)) {
                i++;
            }
            if (i == length) {
                return last;
            }
        }
        String topic = new String(bytes, 0, length, StandardCharsets.US_ASCII);
        lastTopic = topic;
        return topic;
    }

    /**
     * @return the framer's array for a topic name's bytes, at least this long (made at the first PUBLISH; a name
     *         longer than 256 bytes gets an array of its own, so one long name does not stay with the connection)
     */
    private byte[] topicBytes(int length) {
        if (length > 256) {
            return new byte[length];
        }
        byte[] b = topicScratch;
        if (b == null || b.length < length) {
            b = new byte[Math.max(length, 64)];
            topicScratch = b;
        }
        return b;
    }

    /** @return an immutable list of the one Subscription Identifier: the previous publish's when it is the same */
    private List<Integer> one(int id) {
        List<Integer> last = lastIdentifiers;
        if (last.size() == 1 && last.get(0) == id) {
            return last;
        }
        List<Integer> ids = List.of(id);
        lastIdentifiers = ids;
        return ids;
    }

    private static List<Integer> plus(List<Integer> list, int id) {
        List<Integer> more = new java.util.ArrayList<>(list);
        more.add(id);
        return more;
    }

    /** @return the Variable Byte Integer at the index, or -1 if it is malformed or runs past the end */
    private static long readVarInt(ByteBuf in, int at, int end) {
        long value = 0;
        int multiplier = 1;
        for (int i = 0; i < 4; i++) {
            if (at + i >= end) {
                return -1;
            }
            int b = in.getUnsignedByte(at + i);
            value += (long) (b & 0x7F) * multiplier;
            if ((b & 0x80) == 0) {
                // The shortest encoding only (a longer one is malformed, MQTT 5 1.5.5).
                return i > 0 && b == 0 ? -1 : value;
            }
            multiplier *= 128;
        }
        return -1;
    }

    private static int varIntSize(long value) {
        return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
    }

    private void failLater(int code, String message) {
        if (failed) {
            return;
        }
        failed = true;
        pendingCode = code;
        pendingMessage = message;
    }

    private void firePendingFailure(ChannelHandlerContext ctx) {
        String message = pendingMessage;
        if (message != null) {
            pendingMessage = null;
            ByteBuf buf = internalBuffer();
            if (buf.isReadable()) {
                buf.skipBytes(buf.readableBytes());
            }
            ctx.fireExceptionCaught(new FramingException(pendingCode, message));
        }
    }

    private void watchIncomplete(ChannelHandlerContext ctx) {
        boolean partial = actualReadableBytes() > 0;
        if (!partial) {
            cancelTimer();
            return;
        }
        if (timer != null && timerFrames == framesForwarded) {
            return;
        }
        // A new incomplete packet: its own full timeout, from now.
        cancelTimer();
        long frames = framesForwarded;
        timerFrames = frames;
        timer = scheduler.schedule(() -> ctx.executor().execute(() -> {
            if (failed || framesForwarded != frames || actualReadableBytesSafe() == 0) {
                return;
            }
            int have = actualReadableBytesSafe();
            fail(ctx, 0x81, "the broker sent an incomplete " + typeName(expectedType) + " packet: "
                    + (expectedSize > 0 ? have + " of " + expectedSize + " bytes" : "only " + have + " byte(s) of its fixed header")
                    + " arrived and the rest did not within " + incompleteTimeout.toMillis() + " ms (incompletePacketTimeout)");
        }), incompleteTimeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    private int actualReadableBytesSafe() {
        return internalBuffer().readableBytes();
    }

    private void fail(ChannelHandlerContext ctx, int reasonCode, String message) {
        cancelTimer();
        failLater(reasonCode, message);
        firePendingFailure(ctx);
    }

    private void cancelTimer() {
        Disposable t = timer;
        timer = null;
        timerFrames = -1;
        if (t != null) {
            t.dispose();
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        context = ctx;
        super.handlerAdded(ctx);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        cancelTimer();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelTimer();
        failed = true;
        super.channelInactive(ctx);
    }

    static String typeName(int type) {
        return switch (type) {
            case 1 -> "CONNECT";
            case 2 -> "CONNACK";
            case 3 -> "PUBLISH";
            case 4 -> "PUBACK";
            case 5 -> "PUBREC";
            case 6 -> "PUBREL";
            case 7 -> "PUBCOMP";
            case 8 -> "SUBSCRIBE";
            case 9 -> "SUBACK";
            case 10 -> "UNSUBSCRIBE";
            case 11 -> "UNSUBACK";
            case 12 -> "PINGREQ";
            case 13 -> "PINGRESP";
            case 14 -> "DISCONNECT";
            case 15 -> "AUTH";
            case 0 -> "reserved (type 0)";
            default -> "unknown";
        };
    }

    /**
     * A CONNACK of remaining length 2 as the connection's first packet: MQTT 3.1.1's format.
     *
     * @param sessionPresent the Session Present flag
     * @param flags          the whole acknowledge flags byte (bits 7-1 are reserved and must be 0)
     * @param returnCode     the 3.1.1 return code
     */
    record ShortConnack(boolean sessionPresent, int flags, int returnCode) {
    }

    /**
     * A PUBACK, PUBREC, PUBREL or PUBCOMP without properties: its packet id alone (reason code 0) or, in MQTT 5,
     * with a reason code.
     *
     * <p>One per framer, filled again for every reply it reads (a publishing client receives one per QoS 1 message):
     * valid only while the {@code channelRead} that passes it on runs. The framer passes each packet on before it cuts
     * the next (see {@link ByteToMessageDecoder}), so a handler that reads it there sees its own packet; one that
     * keeps it for later must copy its fields.
     */
    static final class Reply {
        private int type;
        private int packetId;
        private int reasonCode;

        Reply() {
        }

        /**
         * @param type       the packet type (4, 5, 6 or 7)
         * @param packetId   the packet id
         * @param reasonCode the reason code, 0 when absent
         * @return this
         */
        Reply set(int type, int packetId, int reasonCode) {
            this.type = type;
            this.packetId = packetId;
            this.reasonCode = reasonCode;
            return this;
        }

        /** @return the packet type (4, 5, 6 or 7) */
        int type() {
            return type;
        }

        /** @return the packet id */
        int packetId() {
            return packetId;
        }

        /** @return the reason code, 0 when absent */
        int reasonCode() {
            return reasonCode;
        }

        @Override
        public String toString() {
            return "Reply[type=" + type + ", packetId=" + packetId + ", reasonCode=" + reasonCode + "]";
        }
    }

    /**
     * A PUBLISH read by the framer ({@link #readPublishes}): its payload array is its own, no one else holds it.
     *
     * @param topic       the topic name
     * @param qos         the QoS
     * @param retain      the retain flag
     * @param packetId    the packet id, 0 for QoS 0
     * @param payload     the payload
     * @param identifiers the Subscription Identifiers, in order
     */
    record InboundPublish(String topic, int qos, boolean retain, int packetId, byte[] payload, List<Integer> identifiers) {
    }

    /** Counts the packets the MQTT decoder produced, whole or failed. */
    static final class Tally extends ChannelInboundHandlerAdapter {
        private final PacketFramer framer;

        Tally(PacketFramer framer) {
            this.framer = framer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            framer.decoded();
            ctx.fireChannelRead(msg);
        }
    }

    /** A framing failure: the bytes are not a sequence of MQTT packets the client accepts. */
    static final class FramingException extends DecoderException {

        private static final long serialVersionUID = 1L;

        /** The MQTT 5 DISCONNECT reason code to send. */
        final int reasonCode;

        FramingException(int reasonCode, String message) {
            super(message);
            this.reasonCode = reasonCode;
        }
    }
}
