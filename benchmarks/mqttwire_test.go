package benchmarks

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// wireClient is the smallest MQTT 3.1.1 client the broker benchmarks
// need: CONNECT, SUBSCRIBE at QoS 0, and reading what the broker sends.
// It has no goroutine of its own, so that thousands of them cost little
// beside the broker they measure, and so that a receiver's work does not
// drown the broker's.
type wireClient struct {
	conn net.Conn
	r    *bufio.Reader
}

// appendString appends an MQTT UTF-8 string: two bytes of length, then s.
func appendString(b []byte, s string) []byte {
	return append(append(b, byte(len(s)>>8), byte(len(s))), s...)
}

// appendPacket appends a packet: its first byte, its remaining length
// (variable-length encoded) and body.
func appendPacket(b []byte, first byte, body []byte) []byte {
	b = append(b, first)
	n := len(body)
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			break
		}
	}
	return append(b, body...)
}

// wireConnect sends a CONNECT (clean session, no keepalive) on conn and
// waits for a CONNACK that accepts it.
func wireConnect(conn net.Conn, clientID, username, password string) (*wireClient, error) {
	body := appendString(nil, "MQTT")
	body = append(body, 4, 0xc2, 0, 0) // level 4, user name + password + clean session, keepalive off
	body = appendString(body, clientID)
	body = appendString(body, username)
	body = appendString(body, password)
	if _, err := conn.Write(appendPacket(nil, 0x10, body)); err != nil {
		return nil, err
	}
	c := &wireClient{conn: conn, r: bufio.NewReaderSize(conn, 512)}
	typ, ack, err := c.read()
	if err != nil {
		return nil, err
	}
	if typ != 2 || len(ack) != 2 || ack[1] != 0 {
		return nil, fmt.Errorf("connect refused: packet type %d %x", typ, ack)
	}
	return c, nil
}

// subscribe subscribes to filters at QoS 0 and fails unless every one is
// granted.
func (c *wireClient) subscribe(filters ...string) error {
	body := []byte{0, 1} // packet id
	for _, f := range filters {
		body = append(appendString(body, f), 0)
	}
	if _, err := c.conn.Write(appendPacket(nil, 0x82, body)); err != nil {
		return err
	}
	typ, ack, err := c.read()
	if err != nil {
		return err
	}
	if typ != 9 || len(ack) != 2+len(filters) {
		return fmt.Errorf("subscribe: packet type %d %x", typ, ack)
	}
	for _, code := range ack[2:] {
		if code != 0 {
			return errors.New("subscribe: a filter was refused")
		}
	}
	return nil
}

// read returns the next packet's type and body.
func (c *wireClient) read() (byte, []byte, error) {
	first, err := c.r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, shift := 0, 0
	for {
		d, err := c.r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n |= int(d&0x7f) << shift
		if d&0x80 == 0 {
			break
		}
		if shift += 7; shift > 21 {
			return 0, nil, errors.New("bad remaining length")
		}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return 0, nil, err
	}
	return first >> 4, body, nil
}

// countPublishes reads until the connection ends, calling got for each
// PUBLISH.
func (c *wireClient) countPublishes(got func()) {
	for {
		typ, _, err := c.read()
		if err != nil {
			return
		}
		if typ == 3 {
			got()
		}
	}
}

// pipeListener is a net.Listener whose connections are in-memory pipes
// (net.Pipe): ten thousand clients in one process without twenty
// thousand file descriptors.
type pipeListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// dial returns the client end of a new connection.
func (l *pipeListener) dial() (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
