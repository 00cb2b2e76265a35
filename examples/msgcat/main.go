// Command msgcat converts pumpnet messages between JSON and msgpack, the way
// they travel on the wire, through the same validator every byte from the
// network passes. It is a debugging aid and the smallest pumpnet program.
//
//	go run ./examples/msgcat -json '{"action":"chat","text":"hi"}'
//	go run ./examples/msgcat -hex '82 a6 61 63 74 69 6f 6e a4 63 68 61 74'
//	echo '{"action":"move","x":3}' | go run ./examples/msgcat
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pumpnet/pumpnet/codec"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "msgcat:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("msgcat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonIn := fs.String("json", "", "a JSON message to encode as msgpack (an object with an \"action\")")
	hexIn := fs.String("hex", "", "msgpack bytes in hex (spaces allowed) to validate and decode")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: msgcat [-json MSG | -hex BYTES]  (no flag: JSON messages, one per line, from stdin)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *jsonIn != "":
		return fromJSON(stdout, []byte(*jsonIn))
	case *hexIn != "":
		b, err := hex.DecodeString(strings.Join(strings.Fields(*hexIn), ""))
		if err != nil {
			return fmt.Errorf("hex: %w", err)
		}
		return fromMsgpack(stdout, b)
	}
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := fromJSON(stdout, []byte(line)); err != nil {
			fmt.Fprintln(stdout, "error:", err)
		}
	}
	return sc.Err()
}

// shape says what a message must look like; errors about JSON input end
// with it.
const shape = `a message is a JSON object with a string "action", e.g. {"action":"chat","text":"hi"}`

// checkShape explains why in is not a message in words a user can act
// on, before the codec's own (more technical) errors: not JSON at all, or
// JSON but not an object.
func checkShape(in []byte) error {
	var v any
	if err := json.Unmarshal(in, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("not JSON (stops making sense at byte %d): %s", se.Offset, shape)
		}
		return fmt.Errorf("not JSON (%v): %s", err, shape)
	}
	kind := ""
	switch v.(type) {
	case map[string]any:
		return nil
	case []any:
		kind = "an array"
	case string:
		kind = "a string"
	case float64:
		kind = "a number"
	case bool:
		kind = "a boolean"
	case nil:
		kind = "null"
	}
	return fmt.Errorf("got %s: %s", kind, shape)
}

// fromJSON decodes a JSON message and prints its msgpack encoding.
func fromJSON(w io.Writer, in []byte) error {
	if err := checkShape(in); err != nil {
		return err
	}
	var m codec.Msg
	if err := codec.JSON(codec.Limits{}).Decode(in, &m); err != nil {
		return fmt.Errorf("%w: %s", err, shape)
	}
	b, err := codec.Default().Append(nil, m)
	if err != nil {
		return fmt.Errorf("%w: %s", err, shape)
	}
	fmt.Fprintf(w, "action: %s\nmsgpack (%d bytes): % x\n", m.Action(), len(b), b)
	return fromMsgpack(w, b)
}

// fromMsgpack validates and decodes msgpack bytes and prints them as JSON.
func fromMsgpack(w io.Writer, b []byte) error {
	mp := codec.Default()
	action, err := mp.Action(b)
	if err != nil {
		return err
	}
	var m codec.Msg
	if err := mp.Decode(b, &m); err != nil {
		return err
	}
	js, err := codec.JSON(codec.Limits{}).Append(nil, m)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "decoded (action %q): %s\n", action, js)
	return nil
}
