package accounts

import (
	"time"

	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The comparison made for an unknown email must cost what a real one costs, or its
// speed would tell which emails have accounts.
func TestDummyHashHasTheConfiguredCost(t *testing.T) {
	for _, cost := range []int{bcrypt.MinCost, 6} {
		a := &Accounts{BcryptCost: cost}
		if a.passwordMatches("", "any password at all") {
			t.Fatal("no hash matched")
		}
		stored, err := a.hashPassword("any password at all")
		if err != nil {
			t.Fatal(err)
		}
		dummyCost, _ := bcrypt.Cost(a.dummyHash)
		realCost, _ := bcrypt.Cost([]byte(stored))
		if dummyCost != cost || realCost != cost {
			t.Errorf("cost %d: dummy hash has %d, real %d", cost, dummyCost, realCost)
		}
	}
	if got := (&Accounts{}).cost(); got != bcrypt.DefaultCost {
		t.Errorf("default cost %d", got)
	}
}

func TestRetryAfterIsRoundedUpToWholeSeconds(t *testing.T) {
	for in, want := range map[string]string{"1ms": "1s", "1s": "1s", "1.001s": "2s", "9m59.5s": "10m0s"} {
		d, _ := time.ParseDuration(in)
		if got := wholeSeconds(d).String(); got != want {
			t.Errorf("wholeSeconds(%s) = %s, want %s", in, got, want)
		}
	}
}
