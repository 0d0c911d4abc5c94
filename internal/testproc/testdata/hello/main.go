// Command hello is built by testproc's Build test.
package main

import "fmt"

func main() { fmt.Println("hello from a built binary") }
