package device

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/latchsec/latch/examples/api"
)

// MQTTLink reaches the platform through its MQTT broker over TLS: it
// connects with the application key as user name and the secret as
// password, subscribes to the device's rules topic at QoS 1 in a
// persistent session (the broker keeps messages while the device is
// offline) and publishes reports to its state topic.
type MQTTLink struct {
	client     paho.Client
	stateTopic string
	msgs       chan []byte

	mu   sync.Mutex
	next int64
}

// MQTTConfig says where and who the device is at the broker.
type MQTTConfig struct {
	BrokerURL  string // "ssl://host:port"
	Roots      *x509.CertPool
	ClientID   string
	Key        string
	Secret     string
	RulesTopic string
	StateTopic string
}

// ErrRefused is returned by DialMQTT when the broker refuses the
// credentials.
var ErrRefused = errors.New("device: the broker refused the connection")

// DialMQTT connects to the broker and subscribes to the rules topic.
func DialMQTT(ctx context.Context, c MQTTConfig) (*MQTTLink, error) {
	l := &MQTTLink{stateTopic: c.StateTopic, msgs: make(chan []byte, 64)}
	opts := paho.NewClientOptions().
		AddBroker(c.BrokerURL).
		SetClientID(c.ClientID).
		SetUsername(c.Key).
		SetPassword(c.Secret).
		SetTLSConfig(&tls.Config{RootCAs: c.Roots, MinVersion: tls.VersionTLS12}).
		SetProtocolVersion(4). // MQTT 3.1.1, without falling back to 3.1
		SetCleanSession(false).
		SetOrderMatters(true).
		SetConnectRetry(false).
		SetAutoReconnect(true).
		SetConnectTimeout(10 * time.Second)
	// Subscribe on every (re)connection; DialMQTT waits for the first.
	subscribed := make(chan error, 1)
	opts.SetOnConnectHandler(func(cl paho.Client) {
		t := cl.Subscribe(c.RulesTopic, 1, func(_ paho.Client, m paho.Message) {
			l.msgs <- m.Payload()
		})
		go func() {
			t.Wait()
			err := t.Error()
			if q, ok := t.(*paho.SubscribeToken).Result()[c.RulesTopic]; err == nil && (!ok || q >= 0x80) {
				err = errors.New("device: the broker refused the subscription")
			}
			select {
			case subscribed <- err:
			default:
			}
		}()
	})
	l.client = paho.NewClient(opts)
	tok := l.client.Connect()
	if err := wait(ctx, tok); err != nil {
		l.client.Disconnect(0)
		if errors.Is(err, packets.ErrorRefusedNotAuthorised) || errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword) {
			return nil, fmt.Errorf("%w: %v", ErrRefused, err)
		}
		return nil, fmt.Errorf("device: connecting to the broker: %w", err)
	}
	select {
	case err := <-subscribed:
		if err != nil {
			l.client.Disconnect(0)
			return nil, err
		}
	case <-ctx.Done():
		l.client.Disconnect(0)
		return nil, ctx.Err()
	}
	return l, nil
}

func wait(ctx context.Context, t paho.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Receive implements Link: it waits for the next message. MQTT has no
// cursor to resume from, so after is unused; the numbers it gives are the
// link's own.
func (l *MQTTLink) Receive(ctx context.Context, after int64) ([]api.Message, error) {
	select {
	case b := <-l.msgs:
		l.mu.Lock()
		l.next = max(l.next, after) + 1
		seq := l.next
		l.mu.Unlock()
		return []api.Message{{Seq: seq, Body: b}}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Report implements Link: it publishes the state at QoS 1.
func (l *MQTTLink) Report(ctx context.Context, state any) error {
	b, err := json.Marshal(state)
	if err != nil {
		return err
	}
	return wait(ctx, l.client.Publish(l.stateTopic, 1, false, b))
}

// Close disconnects from the broker.
func (l *MQTTLink) Close() { l.client.Disconnect(250) }
